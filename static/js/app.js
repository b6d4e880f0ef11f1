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

// Forms marked data-autosubmit (the consult choice above a slot picker, the
// schedule's clinician) reload on change; their button stays without script.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-autosubmit]").forEach((form) => {
    form.querySelectorAll("[data-autosubmit-button]").forEach((button) => {
      button.hidden = true;
    });
    form.addEventListener("change", () => form.submit());
  });
});

// Booking: when the browser's clock is in another zone than the times shown,
// offer to show them in the browser's zone (the server does the maths).
document.addEventListener("DOMContentLoaded", () => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.querySelectorAll("[data-local-zone]").forEach((link) => {
    if (!zone || zone === link.dataset.shownZone) {
      return;
    }
    const url = new URL(window.location.href);
    url.searchParams.set("tz", zone);
    link.href = url.pathname + url.search;
    link.textContent = `Show them in my time zone (${zone.replace(/_/g, " ")})`;
    link.hidden = false;
  });
});
