// Draw polygons on a photo: each click adds a point in the photo's own pixels.
// Markup: <div class="drawable" data-width=W data-height=H><img><svg></svg></div>, and
// buttons with data-draw="<input id>" choosing which hidden input the clicks fill.
(function () {
  function pointsOf(input) {
    return input.value.trim() ? input.value.trim().split(/\s+/).map(function (p) {
      return p.split(",").map(Number);
    }) : [];
  }
  function render(box) {
    var svg = box.querySelector("svg");
    var w = Number(box.dataset.width), h = Number(box.dataset.height);
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.innerHTML = "";
    box.querySelectorAll("[data-layer]").forEach(function (layer) {
      var input = document.getElementById(layer.dataset.layer);
      if (!input) return;  // e.g. the corners input exists only on uncalibrated photos
      var pts = pointsOf(input);
      if (!pts.length) return;
      var poly = document.createElementNS("http://www.w3.org/2000/svg", "polygon");
      poly.setAttribute("points", pts.map(function (p) { return p.join(","); }).join(" "));
      poly.setAttribute("class", layer.dataset.class || "roi");
      poly.setAttribute("stroke-width", Math.max(w, h) / 300);
      svg.appendChild(poly);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".drawable").forEach(function (box) {
      var active = null;
      document.querySelectorAll("[data-draw]").forEach(function (btn) {
        btn.addEventListener("click", function (ev) {
          ev.preventDefault();
          active = document.getElementById(btn.dataset.draw);
          if (btn.dataset.reset !== undefined) { active.value = ""; }
          box.dataset.mode = btn.dataset.draw;
          document.querySelectorAll("[data-draw]").forEach(function (b) { b.classList.toggle("secondary", b !== btn); });
          render(box);
        });
      });
      if (box.dataset.static !== undefined) { render(box); return; }  // display only
      box.querySelector("img").addEventListener("click", function (ev) {
        if (!active) return;
        var img = ev.currentTarget, rect = img.getBoundingClientRect();
        var x = (ev.clientX - rect.left) * Number(box.dataset.width) / rect.width;
        var y = (ev.clientY - rect.top) * Number(box.dataset.height) / rect.height;
        active.value = (active.value + " " + Math.round(x) + "," + Math.round(y)).trim();
        render(box);
      });
      render(box);
    });
    // The before/after slider: the range input sets how much of the top image shows.
    document.querySelectorAll(".slider").forEach(function (s) {
      var range = s.querySelector("input[type=range]"), top = s.querySelector(".top");
      function set() { top.style.clipPath = "inset(0 " + (100 - range.value) + "% 0 0)"; }
      range.addEventListener("input", set); set();
    });
  });
})();
