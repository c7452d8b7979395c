// Fares: a route's adult fares per class as a from x to table, passenger type
// discounts and promotions; catalog editors set a fare and add promotions.
(function () {
  "use strict";
  const api = window.tlApi;
  const enc = encodeURIComponent;

  function readJson(id) { return JSON.parse(document.getElementById(id).textContent); }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (all, key) => (key in values ? values[key] : all));
  }
  // "553.5" -> 55350; anything that is not a non-negative amount with at most 2 decimals -> null
  function fenOf(yuan) {
    const text = String(yuan).trim();
    return /^\d+(\.\d{1,2})?$/.test(text) ? Math.round(Number(text) * 100) : null;
  }

  window.tlFares = function () {
    const choices = readJson("fare-choices");
    return {
      choices: choices,
      text: readJson("fare-text"),
      routes: [],
      route: new URLSearchParams(location.search).get("route") || "",
      classCode: "second",
      table: null,
      types: [],
      promotions: [],
      fare: { from: "", to: "", yuan: "" },
      promotion: { code: "", name: "", classCode: "", from: choices.today, to: choices.today,
        percent: 10, everyRoute: false },
      error: "",
      notice: "",
      busy: false,

      async init() {
        await this.run(async () => {
          [this.routes, this.types] = await Promise.all([
            api("GET", "/api/ticketing/routes"), api("GET", "/api/ticketing/passenger-types"),
          ]);
          if (!this.routes.some((r) => r.code === this.route)) {
            this.route = this.routes.length ? this.routes[0].code : "";
          }
          if (this.route) await this.fetchRoute(true);
        });
      },
      async run(work) {
        if (this.busy) return;
        this.busy = true;
        this.error = "";
        this.notice = "";
        try { await work(); } catch (e) { this.error = e.message; } finally { this.busy = false; }
      },
      // A new route starts on its first priced class, the form on its whole length.
      async fetchRoute(routeChanged) {
        const code = enc(this.route);
        [this.table, this.promotions] = await Promise.all([
          api("GET", "/api/ticketing/routes/" + code + "/fares"),
          api("GET", "/api/ticketing/promotions?route=" + code),
        ]);
        if (!routeChanged) return;
        if (this.table.fares.length) this.classCode = this.table.fares[0].class_code;
        const stops = this.table.stops;
        this.fare = { from: stops.length ? stops[0].station : "",
          to: stops.length ? stops[stops.length - 1].station : "", yuan: "" };
      },
      loadRoute() { return this.run(() => this.fetchRoute(true)); },
      departures() { return this.table ? this.table.stops.slice(0, -1) : []; },
      arrivals() { return this.table ? this.table.stops.slice(1) : []; },
      amount(from, to) {
        const found = this.table.fares.find((f) => f.class_code === this.classCode
          && f.from_station === from.station && f.to_station === to.station);
        return found ? found.amount_fen : null;
      },
      hasFares() { return this.table.fares.some((f) => f.class_code === this.classCode); },
      fareText(from, to) {
        const fen = this.amount(from, to);
        return fen === null ? "—" : (fen / 100).toFixed(2);
      },
      pick(from, to) {
        const fen = this.amount(from, to);
        this.fare = { from: from.station, to: to.station, yuan: fen === null ? "" : (fen / 100).toFixed(2) };
      },
      setFare() {
        const fen = fenOf(this.fare.yuan);
        if (fen === null) { this.error = this.text.badAmount; return; }
        return this.run(async () => {
          await api("PUT", "/api/ticketing/fares", { route: this.route, class_code: this.classCode,
            from_station: this.fare.from, to_station: this.fare.to, amount_fen: fen });
          await this.fetchRoute(false);
          this.notice = this.text.fareSet;
        });
      },
      addPromotion() {
        const p = this.promotion;
        return this.run(async () => {
          const made = await api("POST", "/api/ticketing/promotions", {
            code: p.code.trim(), name: p.name.trim(), route: p.everyRoute ? null : this.route,
            class_code: p.classCode || null, travel_from: p.from, travel_to: p.to,
            percent_off: p.percent,
          });
          await this.fetchRoute(false);
          this.notice = fill(this.text.promotionAdded, { code: made.code });
        });
      },
      english() { return document.documentElement.lang === "en"; },
      stopName(stop) { return this.english() ? stop.name_en : stop.name_zh; },
      localName(item) { return this.english() ? item.name_en : item.name_zh; },
      className(code) {
        const found = this.choices.classes.find((c) => c.code === code);
        return found ? found.name : code;
      },
    };
  };
})();
