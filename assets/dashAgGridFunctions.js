// Functions the grids name in their props ({"function": "..."}): dash-ag-grid looks them up here.
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

// CSV formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that starts with
// = + - @ (also after leading blanks or quotes), a tab or a carriage return as a formula. Such text
// cells are exported with a leading single quote, so they open as the text they are. Numbers are
// left alone, and so is text that is only a signed number ("-3.5", "+12%"): it cannot be a formula,
// and a negative value stays a number in the spreadsheet.
var FORMULA_START = /^[\s"'\u3000]*[=+\-@]|^[\t\r\n]/;
var PLAIN_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?%?$/;

dagfuncs.csvSafe = function (value) {
  if (typeof value !== 'string' || PLAIN_NUMBER.test(value) || !FORMULA_START.test(value)) {
    return value;
  }
  return "'" + value;
};

// processCellCallback of every grid's CSV export (components/tables.py sets it).
dagfuncs.csvSafeCell = function (params) {
  var value = params.value;
  var def = params.column ? params.column.getColDef() : {};
  if (def.valueFormatter && def.useValueFormatterForExport !== false && params.formatValue) {
    value = params.formatValue(value);
  }
  return dagfuncs.csvSafe(value);
};

// Size the columns of the named grids to their content (components/tables.py size_to_content)
// once they can be measured: a grid in a hidden tab was sized while it had no width, so its
// columns are sized again when its tab opens and when its rows change (pages/admin.py).
window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.grids = {
  fit: function () {
    var ids = ['admin-users', 'admin-audit', 'admin-rubric', 'admin-rules', 'admin-rule-settings',
               'playlist-items', 'notify-webhooks', 'notify-recent'];
    setTimeout(function () {
      ids.forEach(function (id) {
        var el = document.getElementById(id);
        if (!el || !el.checkVisibility() || !window.dash_ag_grid) { return; }
        window.dash_ag_grid.getApiAsync(id).then(function (api) {
          var cols = api.getColumns().filter(function (c) {
            var def = c.getColDef();
            return !def.wrapText && !def.flex;
          }).map(function (c) { return c.getColId(); });
          api.autoSizeColumns(cols);
        });
      });
    }, 50);
    return window.dash_clientside.no_update;
  }
};
