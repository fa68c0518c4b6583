// Panels below the core loop fold away: each section marked data-fold gets its heading turned
// into a button (aria-expanded) that hides or shows the rest of the panel. What is folded is
// remembered in this browser.

const KEY = 'vae-explorer.folded';

export function mountFolds({ doc = document, storage = globalThis.localStorage } = {}) {
  const folded = new Set(read(storage));
  for (const section of doc.querySelectorAll('section.panel[data-fold]')) {
    const name = section.dataset.fold;
    const heading = section.querySelector(':scope > h2');
    const body = doc.createElement('div');
    body.className = 'panel-body';
    body.id = `${name}-body`;
    while (heading.nextSibling) body.append(heading.nextSibling);
    section.append(body);
    const button = doc.createElement('button');
    button.type = 'button';
    button.className = 'panel-toggle';
    button.setAttribute('aria-controls', body.id);
    button.append(...heading.childNodes);
    heading.append(button);
    const apply = () => {
      const open = !folded.has(name);
      body.hidden = !open;
      button.setAttribute('aria-expanded', String(open));
      section.classList.toggle('folded', !open);
    };
    button.addEventListener('click', () => {
      if (folded.has(name)) folded.delete(name);
      else folded.add(name);
      write(storage, [...folded]);
      apply();
    });
    apply();
  }
}

function read(storage) {
  try {
    const list = JSON.parse(storage?.getItem(KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((x) => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function write(storage, list) {
  try {
    storage?.setItem(KEY, JSON.stringify(list));
  } catch {
    // Storage refused: folding lasts for this visit only.
  }
}
