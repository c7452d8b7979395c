// Finance: income and costs by category with profit per ticket, carrier deposits,
// blank ticket and insurance stock (low ones called out at the top), commission
// policies, credit owed and the daily settlement. Everything goes through the
// documented API under /api/ticketing/finance.
(function () {
  "use strict";
  const api = window.tlApi;
  const BASE = "/api/ticketing/finance";

  function readJson(id) { return JSON.parse(document.getElementById(id).textContent); }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, key) => String(values[key]));
  }
  function fen(yuanText) { return Math.round(Number(yuanText) * 100); }
  function query(params) { return new URLSearchParams(params).toString(); }

  window.tlFinance = function () {
    const choices = readJson("fin-choices");
    return {
      text: readJson("fin-text"),
      today: choices.today,
      first: choices.today, last: choices.today, settlementDay: choices.today,
      report: null, profits: [], categories: [], deposits: [], stock: [], commissions: [],
      credit: [], settlement: [], overdueOnly: false,
      entry: { category: "", yuan: "", day: choices.today, note: "" },
      topup: { operator: "", yuan: "", reference: "" },
      receipt: { code: "", quantity: "", from: "", to: "" },
      policy: { operator: "", product: "rail", percent: "", fixed: "" },
      error: "", notice: "",

      async init() {
        await this.run(async () => {
          this.categories = await api("GET", `${BASE}/categories`);
          this.entry.category = (this.manualCategories()[0] || {}).code || "";
          await Promise.all([this.loadReport(), this.loadAccounts(), this.loadCommissions(),
            this.loadCredit(), this.loadSettlement()]);
        });
      },
      async run(work, done) {
        this.error = ""; this.notice = "";
        try { await work(); if (done) this.notice = done; }
        catch (e) { this.error = e.message; }
      },
      yuan(amount) { return (amount / 100).toFixed(2); },
      name(category) { return document.documentElement.lang.startsWith("zh") ? category.name_zh : category.name_en; },
      manualCategories() { return this.categories.filter((c) => !c.system); },
      alerts() {
        const low = this.deposits.filter((d) => d.low).map((d) => ({ key: "d" + d.operator,
          text: fill(this.text.depositLow, { name: d.name, left: this.yuan(d.balance_fen), alert: this.yuan(d.alert_below_fen) }) }));
        return low.concat(this.stock.filter((s) => s.low).map((s) => ({ key: "s" + s.code,
          text: fill(this.text.stockLow, { name: s.name, left: s.on_hand, alert: s.alert_below }) })));
      },

      async loadReport() {
        const range = query({ from: this.first, to: this.last });
        this.report = await api("GET", `${BASE}/report?${range}`);
        this.profits = await api("GET", `${BASE}/ticket-profits?${range}`);
      },
      async loadAccounts() {
        [this.deposits, this.stock] = await Promise.all([api("GET", `${BASE}/deposits`), api("GET", `${BASE}/stock`)]);
        this.topup.operator = this.topup.operator || (this.deposits[0] || {}).operator || "";
        this.receipt.code = this.receipt.code || (this.stock[0] || {}).code || "";
      },
      async loadCommissions() { this.commissions = await api("GET", `${BASE}/commissions`); },
      async loadCredit() {
        await this.run(async () => { this.credit = await api("GET", `${BASE}/credit?${query({ overdue: this.overdueOnly })}`); });
      },
      async loadSettlement() {
        await this.run(async () => { this.settlement = await api("GET", `${BASE}/settlement?${query({ date: this.settlementDay })}`); });
      },

      async addEntry() {
        const body = { category: this.entry.category, amount_fen: fen(this.entry.yuan), day: this.entry.day, note: this.entry.note };
        await this.run(async () => { await api("POST", `${BASE}/entries`, body); this.entry.yuan = ""; this.entry.note = ""; await this.loadReport(); }, this.text.saved);
      },
      async topUp() {
        const body = { amount_fen: fen(this.topup.yuan), reference: this.topup.reference || null };
        await this.run(async () => {
          await api("POST", `${BASE}/deposits/${encodeURIComponent(this.topup.operator)}/top-ups`, body);
          this.topup.yuan = ""; this.topup.reference = ""; await this.loadAccounts();
        }, this.text.saved);
      },
      async receive() {
        const body = { quantity: Number(this.receipt.quantity), serial_from: this.receipt.from || null, serial_to: this.receipt.to || null };
        await this.run(async () => {
          await api("POST", `${BASE}/stock/${encodeURIComponent(this.receipt.code)}/receipts`, body);
          this.receipt.quantity = ""; this.receipt.from = ""; this.receipt.to = ""; await this.loadAccounts();
        }, this.text.saved);
      },
      async setCommission() {
        const body = { operator: this.policy.operator.trim() || null, product: this.policy.product,
          percent: Math.round(Number(this.policy.percent) * 10), fixed_fen: fen(this.policy.fixed || 0) };
        await this.run(async () => { await api("PUT", `${BASE}/commissions`, body); await this.loadCommissions(); }, this.text.saved);
      },
    };
  };
})();
