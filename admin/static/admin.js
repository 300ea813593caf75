// The admin site's only script: served by the app, no CDN. Progressive: every page
// works without it; with it, forms marked data-confirm ask first.
"use strict";

function csrfToken() {
  const field = document.querySelector("input[name=csrftoken]");
  return field ? field.value : "";
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
