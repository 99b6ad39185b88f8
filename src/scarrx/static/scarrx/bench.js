// The bench's scanner field: a handheld scanner types the label's GS1 data and Enter.
// The server reads it (the same code as a submitted form) and the lot is picked here,
// so nobody types a lot number. Without this script, the form submits the scan itself.
document.addEventListener("keydown", async (event) => {
  const input = event.target;
  if (event.key !== "Enter" || !input.matches || !input.matches("input[data-scan]")) return;
  event.preventDefault();
  const form = input.closest("form");
  const result = form.querySelector(".scan-result");
  const body = new FormData();
  body.append("component", result.dataset.component);
  body.append("scan", input.value);
  body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
  const response = await fetch(result.dataset.scanUrl, { method: "POST", body });
  const answer = await response.json();
  if (answer.error) {
    result.textContent = answer.error;
    result.classList.add("suggest", "error");
    return;
  }
  form.querySelector("select[data-lot]").value = answer.value;
  result.textContent = `Picked ${answer.label}`;
  result.classList.remove("error");
  input.value = "";
  form.querySelector("input[inputmode=decimal]").focus();
});
