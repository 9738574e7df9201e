import { accessKey, setAccessKey, setKeyPrompt } from './api';
import { h, render } from './dom';
import { PAGES, type Page } from './pages';

const view = document.getElementById('view') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const spaceInput = document.getElementById('space') as HTMLInputElement;
const forgetKey = document.getElementById('forget-key') as HTMLButtonElement;

/** What the hash says: `#/<space>/<page>`. */
function location(): { space: string; page: Page } {
  const [, space, page] = window.location.hash.split('/');
  const known = PAGES.find((p) => p.id === page) ?? (PAGES[0] as Page);
  return { space: decodeURIComponent(space || sessionStorage.getItem('eventgateway.space') || 'default'), page: known };
}

let leave: (() => void) | undefined;

/** Shows the page the hash names; the page before it stops its timers and streams. */
function show(): void {
  const { space, page } = location();
  sessionStorage.setItem('eventgateway.space', space);
  spaceInput.value = space;
  render(
    nav,
    PAGES.map((p) => h('a', { href: `#/${encodeURIComponent(space)}/${p.id}`, class: p.id === page.id ? 'active' : undefined, 'data-page': p.id }, p.title)),
  );
  leave?.();
  leave = undefined;
  render(view, h('p', { class: 'muted' }, 'Loading…'));
  document.title = `${page.title} · ${space} · Event Gateway`;
  page
    .show(view, space)
    .then((cleanup) => {
      leave = cleanup;
    })
    .catch((err: unknown) => render(view, h('h1', {}, page.title), h('p', { class: 'error' }, err instanceof Error ? err.message : String(err))));
  forgetKey.hidden = accessKey() === null;
}

/** The access-key dialog: resolves when a key is entered. */
function promptForKey(problem?: string): Promise<void> {
  const dialog = document.getElementById('key-dialog') as HTMLDialogElement;
  const input = document.getElementById('key-input') as HTMLInputElement;
  const error = document.getElementById('key-error') as HTMLElement;
  error.hidden = !problem;
  error.textContent = problem ?? '';
  input.value = '';
  if (!dialog.open) dialog.showModal();
  return new Promise((resolve) => {
    const form = document.getElementById('key-form') as HTMLFormElement;
    const submit = (event: Event) => {
      event.preventDefault();
      if (input.value.trim() === '') return;
      setAccessKey(input.value.trim());
      form.removeEventListener('submit', submit);
      dialog.close();
      forgetKey.hidden = false;
      resolve();
    };
    form.addEventListener('submit', submit);
  });
}

setKeyPrompt(promptForKey);
spaceInput.addEventListener('change', () => {
  const space = spaceInput.value.trim();
  if (space) window.location.hash = `#/${encodeURIComponent(space)}/${location().page.id}`;
});
forgetKey.addEventListener('click', () => {
  setAccessKey(null);
  show();
});
window.addEventListener('hashchange', show);
show();
