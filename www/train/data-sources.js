// The Training panel's "Training data": the MNIST training set (a checkbox; the worker fetches
// it), the person's drawings (added from the pad with an optional label) and their image
// files (chosen or dropped; refused ones listed, each with a message naming it). Accepted
// files are kept for the page's life, whatever happens to a training run; drawings are also
// kept in this browser's storage (lib/drawing-store.js), so a reload loses none of them.

import { readUploads } from './uploads.js';
import { KeptDrawings } from '../lib/drawing-store.js';
import { LIMITS, NO_LABEL, drawingToImage, toFloats } from '../lib/training-data.js';
import { DEFAULT_IMAGE, paintImages, sizeCanvas } from '../lib/image.js';
import { errorText, sentence } from '../lib/format.js';

const STRIP = 12;
const sameSize = (a, b) => a.width === b.width && a.height === b.height;

export class TrainingData {
  /** Drawings: {id, pixels ([0, 1] floats), width, height, label}, in memory and stored. */
  #drawings;
  /** Accepted files (kept to read them again for a model of another size)… */
  #files = [];
  /** …and what they gave at `#field` size: {name, files, pixels, labels, count}. */
  #sets = [];
  #field = DEFAULT_IMAGE;

  /** `store`: where drawings are kept (a DrawingStore, the default, or a stand-in). */
  constructor({ state, doc, onChange = () => {}, store }) {
    const $ = (id) => doc.getElementById(id);
    Object.assign(this, { state, doc, onChange });
    this.els = {
      mnist: $('train-use-mnist'),
      useDrawings: $('train-use-drawings'),
      useImages: $('train-use-images'),
      add: $('train-add-drawing'),
      label: $('train-drawing-label'),
      clearDrawings: $('train-clear-drawings'),
      drawingCount: $('train-drawing-count'),
      kept: $('train-drawings-kept'),
      strip: $('train-drawings'),
      files: $('train-files'),
      drop: $('train-drop'),
      imageCount: $('train-image-count'),
      clearImages: $('train-clear-images'),
      refused: $('train-refused'),
      accepted: $('train-accepted'),
    };
    const { els } = this;
    this.#drawings = new KeptDrawings({ store, onUnkept: (err, when) => this.#unkept(err, when) });
    let ticked = false;
    els.useDrawings.addEventListener('change', () => {
      ticked = true;
    });
    // The drawings kept from earlier visits: counted, and ticked as a new one would be (unless
    // the person has set the box meanwhile).
    els.drawingCount.setAttribute('aria-busy', 'true');
    this.#drawings.load().then(() => {
      els.drawingCount.removeAttribute('aria-busy');
      if (this.drawings.length && !ticked) els.useDrawings.checked = true;
      this.#render();
    });
    els.add.addEventListener('click', () => this.addDrawing());
    els.clearDrawings.addEventListener('click', () => {
      this.#drawings.clear();
      this.#render();
    });
    els.clearImages.addEventListener('click', () => {
      this.#files = [];
      this.#sets = [];
      els.refused.replaceChildren();
      this.#render();
    });
    els.files.addEventListener('change', () => {
      const files = [...els.files.files];
      els.files.value = '';
      this.addFiles(files);
    });
    for (const type of ['dragenter', 'dragover']) {
      els.drop.addEventListener(type, (e) => {
        e.preventDefault();
        els.drop.classList.add('dragging');
      });
    }
    els.drop.addEventListener('dragleave', () => els.drop.classList.remove('dragging'));
    els.drop.addEventListener('drop', (e) => {
      e.preventDefault();
      els.drop.classList.remove('dragging');
      this.addFiles([...(e.dataTransfer?.files ?? [])]);
    });
    for (const el of [els.mnist, els.useDrawings, els.useImages]) el.addEventListener('change', () => this.onChange());
    state.on('drawing', () => this.#render());
    this.#render();
  }

  /** The person's drawings, oldest first. */
  get drawings() {
    return this.#drawings.list;
  }

  /** Says once, next to the drawings, that they will not outlive this visit. */
  #unkept(err, when) {
    const now = {
      load: 'Your drawings will last only for this visit.',
      add: 'Drawings you add from now on will last only for this visit.',
      clear: 'The drawings it kept may come back after a reload; drawings you add from now on will last only for this visit.',
    }[when];
    this.els.kept.textContent = `${sentence(errorText(err))} ${now}`;
    this.els.kept.classList.add('unkept');
  }

  get useMnist() {
    return this.els.mnist.checked;
  }

  /** Images the person added (drawings and files), whether or not they are ticked. */
  get personalCount() {
    return this.drawings.length + this.#imageCount();
  }

  #imageCount() {
    return this.#sets.reduce((s, set) => s + set.count, 0);
  }

  addDrawing() {
    const d = this.state.drawing;
    if (!d) return;
    if (this.personalCount >= LIMITS.personalImages) return this.#refuse([{ names: [], message: `You have added ${LIMITS.personalImages.toLocaleString('en')} images, the most a training takes.` }]);
    const label = this.els.label.value === '' ? NO_LABEL : Number(this.els.label.value);
    this.#drawings.add({ pixels: d.pixels, width: d.width, height: d.height, label });
    this.els.useDrawings.checked = true;
    this.#render();
  }

  /** Reads files (refusing the unusable ones in the list) at the current training size. */
  async addFiles(files) {
    if (!files.length) return;
    const { els } = this;
    els.drop.setAttribute('aria-busy', 'true');
    try {
      const { sets, refused } = await readUploads(files, this.#field);
      const used = new Set();
      for (const set of sets) {
        if (this.personalCount + set.count > LIMITS.personalImages) {
          refused.push({ names: set.files, message: `“${set.name}” would bring your images past ${LIMITS.personalImages.toLocaleString('en')}, the most a training takes: refused.` });
        } else {
          this.#sets.push(set);
          for (const name of set.files) used.add(name);
        }
      }
      this.#files.push(...files.filter((f) => used.has(f.name)));
      this.#refuse(refused);
      if (used.size) els.useImages.checked = true;
    } catch (err) {
      this.#refuse([{ names: [], message: `Could not read the files: ${sentence(errorText(err))}` }]);
    } finally {
      els.drop.removeAttribute('aria-busy');
      this.#render();
    }
  }

  /** Lists refused files, newest first (a person adding more sees the newest on top). */
  #refuse(refused) {
    for (const r of refused) {
      const li = this.doc.createElement('li');
      li.textContent = r.message;
      this.els.refused.prepend(li);
    }
  }

  /**
   * The person's ticked images at `field` size: {parts: [{pixels, labels, count}], samples:
   * the first few images (bytes) for the reconstruction strip, count, words}. Files read at
   * another size are read again.
   */
  async personal(field) {
    if (!sameSize(field, this.#field)) await this.#reread(field);
    const parts = [];
    const n = field.width * field.height;
    let drawings = 0;
    let images = 0;
    if (this.els.useDrawings.checked && this.drawings.length) {
      const pixels = new Uint8Array(this.drawings.length * n);
      this.drawings.forEach((d, i) => pixels.set(drawingToImage(d.pixels, d, field), i * n));
      parts.push({ pixels, labels: Uint8Array.from(this.drawings, (d) => d.label), count: this.drawings.length });
      drawings = this.drawings.length;
    }
    if (this.els.useImages.checked) {
      parts.push(...this.#sets);
      images = this.#imageCount();
    }
    const samples = [];
    for (const p of parts) for (let i = 0; i < p.count && samples.length < 8; i++) samples.push(p.pixels.subarray(i * n, (i + 1) * n));
    const words = [drawings && `${drawings} drawing${drawings === 1 ? '' : 's'}`, images && `${images.toLocaleString('en')} image${images === 1 ? '' : 's'}`].filter(Boolean);
    return { parts, samples, count: drawings + images, words };
  }

  /** Files are kept, not just their images: a model of another size reads them again. */
  async #reread(field) {
    this.#field = field;
    if (!this.#files.length) return;
    const { sets, refused } = await readUploads(this.#files, field);
    this.#sets = sets;
    this.#refuse(refused);
    this.#render();
  }

  /** Enables or disables every input here (while a run starts). */
  setDisabled(disabled) {
    for (const el of [this.els.mnist, this.els.useDrawings, this.els.useImages, this.els.files, this.els.clearImages, this.els.clearDrawings]) el.disabled = disabled;
    this.#render();
  }

  #render() {
    const { els } = this;
    els.add.disabled = !this.state.drawing;
    els.drawingCount.textContent = this.drawings.length.toLocaleString('en');
    const images = this.#imageCount();
    els.imageCount.textContent = images.toLocaleString('en');
    const names = this.#sets.map((s) => `${s.name} (${s.count.toLocaleString('en')})`);
    els.accepted.textContent = names.length ? `From ${names.slice(0, 4).join(', ')}${names.length > 4 ? ` and ${names.length - 4} more files` : ''}.` : '';
    const shown = this.drawings.slice(-STRIP);
    els.strip.hidden = shown.length === 0;
    if (!shown.length) return;
    sizeCanvas(els.strip, DEFAULT_IMAGE, shown.length, 1);
    const n = DEFAULT_IMAGE.width * DEFAULT_IMAGE.height;
    const pixels = new Float32Array(shown.length * n);
    shown.forEach((d, i) => pixels.set(toFloats(drawingToImage(d.pixels, d, DEFAULT_IMAGE)), i * n));
    paintImages(els.strip, pixels, { ...DEFAULT_IMAGE, cols: shown.length, rows: 1 });
    els.strip.setAttribute('aria-label', `Your last ${shown.length} drawing${shown.length === 1 ? '' : 's'} for training`);
  }
}
