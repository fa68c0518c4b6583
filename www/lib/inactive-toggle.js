// "Show N inactive dimensions": dimensions the decoder ignores (KL ≈ 0) are collapsed by
// default in the sliders and the traversal strips, behind one button per panel. Both panels
// follow state.view.inactive ('hidden' or 'shown'), which the address keeps.

/** The button's words for `count` inactive dimensions. */
export function inactiveToggleText(count, shown) {
  const dims = count === 1 ? 'dimension' : 'dimensions';
  return shown ? `Hide the ${count} inactive ${dims}` : `Show ${count} inactive ${dims}`;
}

/** Which dimensions are on show: all of them, or the active ones only. */
export function visibleDims(inactive, shown) {
  return inactive.map((off) => shown || !off);
}

/**
 * Binds `button` to state.view.inactive; `apply(visible)` shows and hides the panel's rows
 * (visible[i] for dimension i). Focus on a row being hidden moves to the button.
 */
export function bindInactiveToggle({ button, state, apply, doc = document }) {
  const shown = () => state.view.inactive === 'shown';
  function update() {
    const model = state.model;
    const count = model ? model.inactive.filter(Boolean).length : 0;
    button.hidden = count === 0;
    button.textContent = inactiveToggleText(count, shown());
    button.setAttribute('aria-expanded', String(shown()));
    if (!model) return;
    const controlled = doc.getElementById(button.getAttribute('aria-controls'));
    const hadFocus = controlled?.contains(doc.activeElement);
    apply(visibleDims(model.inactive, shown()));
    if (hadFocus && !controlled.contains(doc.activeElement)) button.focus();
  }
  button.addEventListener('click', () => state.setView({ inactive: shown() ? 'hidden' : 'shown' }));
  state.on('model', update);
  state.on('view', (changed) => changed.includes('inactive') && update());
  return update;
}
