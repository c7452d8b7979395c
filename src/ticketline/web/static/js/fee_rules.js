// Fee rules: the refund and change windows of each product as editable tables; each
// table is saved whole (the server replaces that product and action's set).
(function () {
  "use strict";
  const api = window.tlApi;
  const ACTIONS = ["refund", "change"];
  let nextKey = 0;

  function readJson(id) { return JSON.parse(document.getElementById(id).textContent); }
  function yuanOf(fen) { return String(fen / 100); }
  function rowOf(rule) {
    nextKey += 1;
    return {
      key: nextKey, minHours: String(rule.min_hours),
      maxHours: rule.max_hours === null ? "" : String(rule.max_hours),
      percent: String(rule.percent_tenths / 10), minFee: yuanOf(rule.min_fee_fen),
      round: yuanOf(rule.round_fen), allowed: rule.allowed,
    };
  }
  function number(text) {
    const value = String(text).trim();
    return value === "" || !Number.isFinite(Number(value)) ? null : Number(value);
  }
  // A row as the API takes it; null when a needed field is empty or not a number.
  function ruleOf(row) {
    const [low, high, percent, minFee, round] =
      [row.minHours, row.maxHours, row.percent, row.minFee, row.round].map(number);
    if ([low, percent, minFee, round].includes(null)) return null;
    return {
      min_hours: Math.round(low), max_hours: high === null ? null : Math.round(high),
      percent_tenths: Math.round(percent * 10), min_fee_fen: Math.round(minFee * 100),
      round_fen: Math.round(round * 100), allowed: row.allowed,
    };
  }

  window.tlFeeRules = function () {
    const choices = readJson("rules-choices");
    return {
      canWrite: choices.canWrite,
      text: readJson("rules-text"),
      groups: [],
      error: "",
      busy: false,

      async init() {
        try { this.groups = this.grouped(await api("GET", "/api/ticketing/fee-rules")); }
        catch (e) { this.error = e.message; }
      },
      grouped(rules) {
        return choices.products.flatMap((product) => ACTIONS.map((action) => ({
          product: product, action: action, error: "", notice: "",
          rows: rules.filter((r) => r.product === product && r.action === action).map(rowOf),
        })));
      },
      addRow(group) {
        group.rows.push(rowOf({ min_hours: 0, max_hours: null, percent_tenths: 0, min_fee_fen: 0,
          round_fen: 50, allowed: true }));
      },
      removeRow(group, index) { group.rows.splice(index, 1); },
      async save(group) {
        group.error = "";
        group.notice = "";
        const rules = group.rows.map(ruleOf);
        if (rules.includes(null)) { group.error = this.text.incomplete; return; }
        this.busy = true;
        try {
          await api("PUT", "/api/ticketing/fee-rules",
            { product: group.product, action: group.action, rules: rules });
          const saved = await api("GET", "/api/ticketing/fee-rules");
          group.rows = this.grouped(saved).find(
            (g) => g.product === group.product && g.action === group.action).rows;
          group.notice = this.text.saved;
        } catch (e) {
          group.error = this.text.notSaved.replace("{reason}", e.message);
        } finally { this.busy = false; }
      },
    };
  };
})();
