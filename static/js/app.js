// Small behaviours that need script; the CSP allows only files from static/.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) {
    window.print();
  }
});

// Self-assessment: a question with data-show-if="item=value" shows only while
// that answer is chosen. The server drops hidden answers whatever happens here.
function updateConditions(form) {
  form.querySelectorAll("[data-show-if]").forEach((question) => {
    const [item, value] = question.dataset.showIf.split("=");
    const chosen = form.querySelector(`[name="${item}"]:checked`);
    const show = chosen !== null && chosen.value === value;
    question.hidden = !show;
    question.querySelectorAll("input, select, textarea").forEach((input) => {
      input.disabled = !show;
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form.assessment").forEach((form) => {
    updateConditions(form);
    form.addEventListener("change", () => updateConditions(form));
  });
});
