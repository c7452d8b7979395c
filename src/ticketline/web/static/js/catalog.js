// Catalog: operators, stations, routes, layouts and the trips of a date; catalog
// editors add operators, stations and timetables and cancel trips.
(function () {
  "use strict";
  const api = window.tlApi;
  const enc = encodeURIComponent;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (all, key) => (key in values ? values[key] : all));
  }
  function readJson(id) { return JSON.parse(document.getElementById(id).textContent); }
  function blankStation() { return { code: "", name_zh: "", name_en: "", city: "", pinyin: "" }; }
  function blankOperator() { return { code: "", name_zh: "", name_en: "", product: "rail" }; }

  window.tlCatalog = function () {
    const choices = readJson("cat-choices");
    return {
      choices: choices,
      text: readJson("cat-text"),
      operators: [],
      stations: [],
      routes: [],
      layouts: [],
      trips: [],
      tripDay: choices.today,
      tripRoute: "",
      station: blankStation(),
      operator: blankOperator(),
      timetable: { route: "", layout: "", service: "", departs: "08:00",
        validFrom: choices.today, validTo: choices.today, weekdays: [1, 2, 3, 4, 5, 6, 7] },
      error: "",
      notice: "",
      busy: false,

      async init() {
        await this.run(async () => {
          [this.operators, this.stations, this.routes, this.layouts] = await Promise.all([
            api("GET", "/api/ticketing/operators"), api("GET", "/api/ticketing/stations"),
            api("GET", "/api/ticketing/routes"), api("GET", "/api/ticketing/layouts"),
          ]);
          this.timetable.route = this.routes.length ? this.routes[0].code : "";
          this.timetable.layout = this.layouts.length ? this.layouts[0].code : "";
          await this.fetchTrips();
        });
      },
      async run(work) {
        if (this.busy) return;
        this.busy = true;
        this.error = "";
        this.notice = "";
        try { await work(); } catch (e) { this.error = e.message; } finally { this.busy = false; }
      },
      async fetchTrips() {
        let path = "/api/ticketing/trips?date=" + enc(this.tripDay);
        if (this.tripRoute) path += "&route=" + enc(this.tripRoute);
        this.trips = await api("GET", path);
      },
      loadTrips() { return this.run(() => this.fetchTrips()); },
      cancelTrip(trip) {
        const question = fill(this.text.confirmCancel, { service: trip.service, date: trip.service_date });
        if (!confirm(question)) return;
        return this.run(async () => {
          await api("POST", "/api/ticketing/trips/" + enc(trip.id) + "/cancel");
          await this.fetchTrips();
          this.notice = fill(this.text.tripCancelled, { service: trip.service });
        });
      },
      addStation() {
        return this.run(async () => {
          const made = await api("POST", "/api/ticketing/stations", this.station);
          this.stations = await api("GET", "/api/ticketing/stations");
          this.station = blankStation();
          this.notice = fill(this.text.stationAdded, { code: made.code });
        });
      },
      addOperator() {
        return this.run(async () => {
          const made = await api("POST", "/api/ticketing/operators", this.operator);
          this.operators = await api("GET", "/api/ticketing/operators");
          this.operator = blankOperator();
          this.notice = fill(this.text.operatorAdded, { code: made.code });
        });
      },
      addTimetable() {
        const t = this.timetable;
        return this.run(async () => {
          const made = await api("POST", "/api/ticketing/timetables", {
            route: t.route, layout: t.layout, service: t.service.trim(), departs_local: t.departs,
            weekdays: t.weekdays, valid_from: t.validFrom, valid_to: t.validTo,
          });
          await this.fetchTrips();
          this.notice = fill(this.text.timetableAdded, { count: made.count });
        });
      },
      stationName(stop) { return document.documentElement.lang === "en" ? stop.name_en : stop.name_zh; },
      seatSummary(layout) {
        const names = Object.fromEntries(this.choices.classes.map((c) => [c.code, c.name]));
        return Object.entries(layout.seats).map(([code, n]) => (names[code] || code) + " " + n).join(", ");
      },
      // The API gives the time with the site's offset: its wall clock is what people read.
      clock(at) { return at.slice(11, 16); },
    };
  };
})();
