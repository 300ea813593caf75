// The admin site's only script: served by the app, no CDN. Progressive: every page
// works without it; with it, forms (or submit buttons) marked data-confirm ask first.
"use strict";

function csrfToken() {
  const field = document.querySelector("input[name=csrftoken]");
  return field ? field.value : "";
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  const button = event.submitter;  // the button pressed, when the form has several
  const question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});

// The entry editor's live preview: the server renders it with the channels' own code.
(function () {
  const form = document.getElementById("entry-form");
  const box = document.getElementById("preview");
  if (!form || !box) return;
  let timer = null;
  async function refresh() {
    const body = new URLSearchParams(new FormData(form));
    const response = await fetch(box.dataset.url, {
      method: "POST", body, credentials: "same-origin", headers: { "x-csrftoken": csrfToken() },
    });
    if (response.ok) {
      const html = await response.text();
      const doc = new DOMParser().parseFromString(html, "text/html");
      const fresh = doc.getElementById("preview-body");
      if (fresh) box.replaceChildren(fresh);
    }
  }
  form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 400); });
})();
