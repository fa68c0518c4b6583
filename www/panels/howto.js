// "How to read this page": a one-minute guide for newcomers to VAEs, a disclosure under the
// status line. "Hide this guide" removes it and the browser remembers; the footer's button
// brings it back.

const KEY = 'vae-explorer.howto';

export function mountHowto({ doc = document, storage = globalThis.localStorage } = {}) {
  const guide = doc.getElementById('howto');
  const hide = doc.getElementById('howto-hide');
  const show = doc.getElementById('howto-show');
  const remember = (value) => {
    try {
      if (value) storage?.setItem(KEY, value);
      else storage?.removeItem(KEY);
    } catch {
      // Storage refused (private mode, quota): the choice lasts for this visit only.
    }
  };
  let hidden = false;
  try {
    hidden = storage?.getItem(KEY) === 'hidden';
  } catch {
    hidden = false;
  }
  const apply = () => {
    guide.hidden = hidden;
    show.hidden = !hidden;
  };
  hide.addEventListener('click', () => {
    hidden = true;
    remember('hidden');
    apply();
    show.focus();
  });
  show.addEventListener('click', () => {
    hidden = false;
    remember(null);
    apply();
    guide.open = true;
    guide.querySelector('summary').focus();
  });
  apply();
}
