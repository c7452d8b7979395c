// Customers: search by name, phone or member card; a customer's record with phones
// (click to call from the agent's own phone), timeline and work orders; add a note.
(function () {
  "use strict";
  const api = window.tlApi;
  const PAGE = 20;

  window.tlCustomers = function () {
    return {
      query: "",
      results: [],
      total: 0,
      page: 1,
      customer: null,
      timeline: [],
      workOrders: [],
      note: "",
      error: "",
      notice: "",
      busy: false,
      latest: window.tlLatest(),
      canDial: document.body.dataset.canDial === "1",

      async init() {
        const params = new URLSearchParams(location.search);
        this.query = params.get("q") || "";
        await this.search(1);
        if (params.get("id")) await this.open(params.get("id"));
      },
      async run(work) {
        if (this.busy) return;
        this.busy = true;
        this.error = "";
        try { await work(); } catch (e) { this.error = e.message; } finally { this.busy = false; }
      },
      search(page) {
        const q = this.query.trim();
        const path = "/api/crm/customers?size=" + PAGE + "&page=" + page +
          (q ? "&q=" + encodeURIComponent(q) : "");
        return this.latest("search", () => api("GET", path), (found) => {
          this.results = found.items;
          this.total = found.total;
          this.page = found.page;
        });
      },
      pages() { return Math.max(1, Math.ceil(this.total / PAGE)); },
      primary(c) {
        const phone = c.phones.find((p) => p.primary) || c.phones[0];
        return phone ? phone.number : "";
      },
      open(id) {
        const path = "/api/crm/customers/" + encodeURIComponent(id);
        return this.latest("record", () => Promise.all([
          api("GET", path),
          api("GET", path + "/timeline?size=30"),
          api("GET", "/api/workorders?size=20&customer_id=" + encodeURIComponent(id)),
        ]), ([customer, timeline, workOrders]) => {
          this.customer = customer;
          this.timeline = timeline;
          this.workOrders = workOrders.items;
          this.notice = "";
          history.replaceState(null, "", "/customers?id=" + encodeURIComponent(id));
        });
      },
      call(number) {
        return this.run(async () => {
          this.notice = "";
          await api("POST", "/api/desk/dial", { number: number });
          this.notice = window.TL_TEXT.dialling;
        });
      },
      addNote() {
        const text = this.note.trim();
        if (!text) { this.error = window.TL_TEXT.emptyNote; return; }
        return this.run(async () => {
          const entry = await api("POST", "/api/crm/customers/" + encodeURIComponent(this.customer.id) + "/notes", { text: text });
          this.timeline.unshift(entry);
          this.note = "";
        });
      },
      when(at) { return at ? new Date(at).toLocaleString() : ""; },
    };
  };
})();
