// What the page says: the status line (a throttled live region), the yellow notice and the red
// error box (role="alert"). An error remembers its source, so fixing one thing clears only
// its own message. Events: 'status' after the status line is rendered.

import { Emitter } from './lib/emitter.js';
import { errorText, sentence } from './lib/format.js';

export class Messages extends Emitter {
  #source = null;
  #timer = 0;
  #lastAt = 0;
  /** Gives the status line's text, or null while there is nothing to report. */
  describeStatus = () => null;

  constructor(doc = document) {
    super();
    const $ = (id) => doc.getElementById(id);
    this.els = { main: $('status-main'), reason: $('status-reason'), notice: $('notice'), noticeTitle: $('notice-title'), noticeText: $('notice-text'), error: $('error') };
  }

  /** Show an error in words in the role="alert" element; the page stays usable. */
  error(message, source = 'load') {
    this.#source = source;
    this.els.error.textContent = message;
    this.els.error.hidden = false;
  }

  /** Clears the error if it came from `source` (or any error without one). */
  clearError(source) {
    if (source && this.#source !== source) return;
    this.#source = null;
    this.els.error.textContent = '';
    this.els.error.hidden = true;
  }

  notice(title, text) {
    this.els.noticeTitle.textContent = title;
    this.els.noticeText.textContent = text;
    this.els.notice.hidden = false;
  }

  hideNotice() {
    this.els.notice.hidden = true;
  }

  get noticeShown() {
    return !this.els.notice.hidden;
  }

  /** The status line's first part, set directly (loading, starting). */
  status(text) {
    this.els.main.textContent = text;
  }

  /** The status line's second part: why this backend. */
  reason(text) {
    this.els.reason.textContent = text;
  }

  /** Renders the status line now. */
  renderStatus() {
    clearTimeout(this.#timer);
    this.#timer = 0;
    this.#lastAt = performance.now();
    const text = this.describeStatus();
    if (text == null) return;
    this.els.main.textContent = text;
    this.emit('status');
  }

  /** Status updates are throttled (the status is a live region) but the last value always lands. */
  scheduleStatus() {
    if (this.#timer) return;
    const wait = Math.max(0, 150 - (performance.now() - this.#lastAt));
    this.#timer = setTimeout(() => this.renderStatus(), wait);
  }

  /** Anything not caught where it happened still reaches the user in words, not only the console. */
  catchUncaught(win = window) {
    win.addEventListener('error', (e) => this.error(`Something went wrong: ${sentence(errorText(e.error ?? e.message))}`, 'page'));
    win.addEventListener('unhandledrejection', (e) => this.error(`Something went wrong: ${sentence(errorText(e.reason))}`, 'page'));
  }
}
