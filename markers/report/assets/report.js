// markers HTML report: sort, filter and search the cohort table. No network, no library.
(function () {
  "use strict";
  var table = document.getElementById("cohort-table");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var search = document.getElementById("patient-search");
  var status = document.getElementById("status-filter");
  var marker = document.getElementById("marker-filter");
  var shown = document.getElementById("shown-count");
  // patient-level panel status filters: each select names the row attribute it matches
  var panels = Array.prototype.slice.call(document.querySelectorAll("select.panel-filter"));

  function apply() {
    var query = search.value.trim().toLowerCase();
    var wanted = status.value;
    var analyte = marker.value;
    var count = 0;
    rows.forEach(function (row) {
      var keep = (!query || row.getAttribute("data-patient").toLowerCase().indexOf(query) !== -1) &&
        (!wanted || row.getAttribute("data-status") === wanted) &&
        (!analyte || (" " + row.getAttribute("data-markers") + " ").indexOf(" " + analyte + " ") !== -1) &&
        panels.every(function (select) {
          return !select.value || row.getAttribute(select.getAttribute("data-attribute")) === select.value;
        });
      row.hidden = !keep;
      if (keep) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " patients shown";
  }

  [search, status, marker].concat(panels).forEach(function (control) {
    control.addEventListener("input", apply);
    control.addEventListener("change", apply);
  });
  search.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") { return; }
    var visible = rows.filter(function (row) { return !row.hidden; });
    if (visible.length === 1) { window.location.hash = visible[0].getAttribute("data-anchor"); }
  });

  function sortKey(row, column, numeric) {
    var cell = row.cells[column];
    var value = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    if (!numeric) { return value.toLowerCase(); }
    return value === "" ? Infinity : parseFloat(value);
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, column) {
    var button = header.querySelector("button.sort");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var ascending = header.getAttribute("aria-sort") !== "ascending";
      var numeric = header.getAttribute("data-type") === "number";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) { other.removeAttribute("aria-sort"); });
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var x = sortKey(a, column, numeric), y = sortKey(b, column, numeric);
        var order = x < y ? -1 : x > y ? 1 : 0;
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  apply();
}());
