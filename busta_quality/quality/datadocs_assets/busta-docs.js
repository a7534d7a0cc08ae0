/* busta: GX 1.24's Data Docs scripts, moved out of the pages so that they run under
   Content-Security-Policy "script-src 'self'" (busta_quality/quality/docs_assets.py).
   The pages hold their data as <script type="application/json"> blocks:
   data-busta-table (a bootstrap-table's columns, rows and options) and data-busta-chart
   (a Vega-Lite spec); buttons carry data-busta-action / data-busta-clear-filters. */
(function () {
  "use strict";

  // GX's table functions, by the names its table options give (bootstrap_table_js_functions.j2)
  window.rowStyleLinks = function () {
    return { css: { cursor: "pointer" } };
  };
  window.rowAttributesLinks = function (row) {
    return { "class": "clickable-row", "data-href": row._table_row_link_path };
  };
  window.expectationSuiteNameFilterDataCollector = function (value, row) {
    return row._expectation_suite_name_sort;
  };
  window.validationSuccessFilterDataCollector = function (value, row) {
    return row._validation_success_text;
  };
  window.getFormattedDateWithoutTime = function (d) {
    var month = "" + (d.getMonth() + 1);
    var day = "" + d.getDate();
    var year = d.getFullYear();
    if (month.length < 2) month = "0" + month;
    if (day.length < 2) day = "0" + day;
    return [year, month, day].join("-");
  };
  window.formatRuntimeDateForFilter = function (text, value) {
    return text == window.getFormattedDateWithoutTime(new Date(value));
  };
  // busta's columns of the index (docs_verdict.py)
  window.bustaDecisionFilterDataCollector = function (value, row) {
    return row._busta_decision_text;
  };
  window.bustaSeverityFilterDataCollector = function (value, row) {
    return row._busta_severity_text;
  };
  window.clearTableFilters = function (tableId) {
    var table = $(document.getElementById(tableId));
    table.bootstrapTable("clearFilterControl");
    table.bootstrapTable("resetSearch");
  };

  // page_action_card.j2: "Show All" / "Failed Only"
  function toggleValidations(show) {
    var fade = show ? "fadeIn" : "fadeOut";
    $(".hide-succeeded-validation-target-child").parent()[fade]();
    $(".hide-succeeded-validation-target")[fade]();
    $(".hide-succeeded-validations-column-section-target-child").parent().parent().each(function (idx, el) {
      $(el)[fade]();
      $("a").filter(function () {
        var href = this.getAttribute("href") || "";
        return el.id && href.slice(-el.id.length) === el.id;
      })[fade]();
    });
  }

  function readJson(el) {
    try {
      return JSON.parse(el.textContent);
    } catch (error) {
      console.warn("busta: unreadable data block", error);
      return null;
    }
  }

  function tables() {
    document.querySelectorAll('script[type="application/json"][data-busta-table]').forEach(function (el) {
      var spec = readJson(el);
      if (!spec) return;
      var table = $(document.getElementById(spec.id));
      if (table.data("bootstrap.table")) table.bootstrapTable("destroy"); // auto-initialised
      table.bootstrapTable(Object.assign(
        { columns: spec.columns, data: spec.data, toolbar: "#" + spec.toolbar },
        spec.options || {}
      ));
      if (spec.title_row) {
        table.children("thead").prepend(spec.title_row);
      }
      if (spec.options && spec.options.rowAttributes === "rowAttributesLinks") {
        table.on("click-row.bs.table", function (e, row, $element) {
          window.location = $element.data("href");
        });
      }
    });
  }

  function charts() {
    if (typeof window.vegaEmbed !== "function") return;
    document.querySelectorAll('script[type="application/json"][data-busta-chart]').forEach(function (el) {
      var spec = readJson(el);
      var target = document.getElementById(el.getAttribute("data-busta-chart"));
      if (!spec || !target) return;
      // ast + the interpreter: Vega evaluates expressions without eval / new Function
      window.vegaEmbed(target, spec, {
        actions: false,
        ast: true,
        expr: window.vega && window.vega.expressionInterpreter
      }).catch(console.warn);
    });
  }

  function buttons() {
    document.addEventListener("click", function (event) {
      var target = event.target instanceof Element ? event.target : null;
      if (!target) return;
      var action = target.closest("[data-busta-action]");
      if (action) {
        toggleValidations(action.getAttribute("data-busta-action") === "show-all");
        return;
      }
      var clear = target.closest("[data-busta-clear-filters]");
      if (clear) {
        window.clearTableFilters(clear.getAttribute("data-busta-clear-filters"));
      }
    });
  }

  function ctaFooter() {
    // cta_footer.j2: shown once per session
    var footer = $("#ge-cta-footer");
    if (!footer.length) return;
    try {
      if (sessionStorage.getItem("showCta") !== "false") footer.removeClass("invisible");
      footer.on("closed.bs.alert", function () {
        sessionStorage.setItem("showCta", false);
      });
    } catch (error) {
      footer.removeClass("invisible");
    }
  }

  // a deferred script: the page is parsed, and bootstrap-table's own set-up of
  // data-toggle="table" (on DOM ready) has not run yet, as with GX's inline scripts
  function init() {
    tables();
    charts();
    buttons();
    ctaFooter();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
