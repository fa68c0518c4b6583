// Placeholder: filled in by the panel's author.
export function mountNeighbours() {}
