// The assessment form's site rows: "Add a site" copies the empty row from its <template>,
// "Remove" ticks the row's DELETE box (the server then ignores it) and hides it.
// Without JavaScript the same buttons work by posting: "Add a site" shows the form again
// with one more row, and "Remove this site" is a checkbox.
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var rows = document.getElementById("site-rows");
    if (!rows) return;
    var total = document.getElementById("id_sites-TOTAL_FORMS");
    var template = document.getElementById("site-row-template");
    var add = document.querySelector("[data-add-site]");
    var most = Number(rows.dataset.max), read = Number(rows.dataset.read);

    function shown() {
      return Array.prototype.filter.call(rows.querySelectorAll("[data-site-row]"), function (r) {
        return !r.hidden;
      });
    }
    function renumber() {
      shown().forEach(function (row, i) {
        row.querySelector("legend").textContent = "Site " + (i + 1);
      });
      add.hidden = shown().length >= most || Number(total.value) >= read;
    }
    function wire(row) {
      var box = row.querySelector('input[name$="-DELETE"]');
      box.closest("label").hidden = true;
      row.hidden = box.checked;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "secondary outline remove-site";
      remove.textContent = "Remove this site";
      remove.addEventListener("click", function () {
        box.checked = true;
        row.hidden = true;
        renumber();
        add.focus();
      });
      row.appendChild(remove);
    }

    rows.querySelectorAll("[data-site-row]").forEach(wire);
    add.addEventListener("click", function (event) {
      event.preventDefault();
      var index = Number(total.value);
      var copy = template.content.cloneNode(true);
      copy.querySelectorAll("[name], [id], [for]").forEach(function (el) {
        ["name", "id", "for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(/__prefix__/g, index));
        });
      });
      rows.appendChild(copy);
      total.value = index + 1;
      var row = rows.lastElementChild;
      wire(row);
      renumber();
      row.querySelector("select").focus();
    });
    renumber();
  });
})();
