// Reading a byte stream whole, for every download and unpacking the page does (a bundle's
// weights, the MNIST files in the training worker, gzipped uploads).

/**
 * The stream's bytes as one Uint8Array. `onChunk(chunk, total)` sees each piece as it arrives
 * (progress, size limits); if it throws, the stream is cancelled and the error passed on.
 */
export async function readAll(stream, onChunk = () => {}) {
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
      onChunk(value, total);
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    throw err;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
