// The agent desktop: state bar, the current call with its screen pop, call
// controls, wrap-up and the ticketing panel. State arrives by the realtime
// socket (snapshot, then pushes); actions are plain JSON API calls.
(function () {
  "use strict";
  const api = window.tlApi;

  function seconds(since, now) {
    if (!since) return 0;
    return Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  }

  function clock(total) {
    const m = Math.floor(total / 60);
    const s = total % 60;
    return String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
  }

  function yuan(fen) {
    return (fen / 100).toFixed(2);
  }

  function seatRows(seats) {
    const rows = [];
    for (const seat of seats) {
      const key = seat.section + "-" + seat.row;
      if (!rows.length || rows[rows.length - 1].key !== key) rows.push({ key: key, seats: [] });
      rows[rows.length - 1].seats.push(seat);
    }
    return rows;
  }

  function emptyWorkOrder(department) {
    return { type: "information", priority: "normal", department: department, title: "", description: "", order_ref: "" };
  }

  window.tlDesk = function () {
    return {
      connected: false,
      agent: { state: "logged_out", reason: null, since: null, wrapup_until: null, extension: null },
      call: null,
      figures: { calls: 0, talk_seconds: 0, average_seconds: 0 },
      waiting: [],
      reasons: [],
      dispositions: [],
      now: Date.now(),
      busy: false,
      error: "",
      notice: "",
      reason: "",
      transferTarget: "",
      dtmf: "",
      newCustomer: { name: "", gender: "U" },
      dialNumber: "",
      takenOver: false,
      wrap: { disposition: "", notes: "", order: "", work_order: "" },
      trip: { from: "", to: "", date: new Date().toISOString().slice(0, 10), results: [] },
      chosen: null,
      seatClass: "",
      passengers: [{ name: "", id_type: "id_card", id_number: "", passenger_type: "adult" }],
      contactPhone: "",
      creditDue: new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10),
      payMethod: "cash",
      payReference: "",
      order: null,
      quote: null,
      orderCode: "",
      changing: null,  // the tickets being moved while the agent picks the new trip
      changeQuote: null,
      departments: [],
      wo: emptyWorkOrder(""),
      woCreated: null,
      woOpen: null,  // the work order the agent is updating
      woNote: { text: "", public: false, action: "" },
      kb: { q: "", hits: [], article: null, searched: false },
      travellers: [],
      seatMap: null,  // rows of the chosen class's seats, while the agent picks
      pickedSeats: [],  // seat i goes to passenger i
      travellersOf: null,  // the customer whose travellers are loaded

      init() {
        window.addEventListener("tl:status", (e) => { this.connected = e.detail.connected; });
        window.addEventListener("tl:taken_over", () => {
          this.takenOver = true;
          this.busy = true;  // every button off: the other desktop acts now
          this.error = (window.TL_TEXT || {}).takenOver;
        });
        window.addEventListener("tl:snapshot", (e) => this.applySnapshot(e.detail.desk));
        window.addEventListener("tl:push", (e) => this.applyPush(e.detail));
        setInterval(() => { this.now = Date.now(); }, 500);
        this.$watch("call", () => this.loadTravellers());
      },

      applySnapshot(desk) {
        if (!desk) return;
        this.agent = desk.agent || this.agent;
        this.call = desk.call || null;
        this.figures = desk.figures || this.figures;
        this.waiting = desk.waiting || [];
        this.reasons = desk.reasons || [];
        this.dispositions = desk.dispositions || [];
        this.departments = desk.departments || [];
        if (!this.wo.department && this.departments.length) this.wo.department = this.departments[0].code;
      },

      applyPush(push) {
        if (push.kind === "agent") this.agent = push.data;
        else if (push.kind === "call") this.call = push.data.call;
        else if (push.kind === "figures") this.figures = push.data;
        else if (push.kind === "waiting") this.waiting = push.data.calls;
        else if (push.kind === "taken_over") {
          this.error = push.data.message;
        }
      },

      inState(since) { return clock(seconds(since, this.now)); },
      clockOf: clock,
      callStateLabel(state) { return (window.TL_CALL_STATES || {})[state] || state; },
      stateLabel(state) { return (window.TL_STATES || {})[state] || state; },
      wrapLeft() {
        if (!this.agent.wrapup_until) return "";
        return clock(Math.max(0, Math.ceil((Date.parse(this.agent.wrapup_until) - this.now) / 1000)));
      },
      yuan: yuan,

      async act(method, path, body, done) {
        if (this.busy || this.takenOver) return;
        this.busy = true;
        this.error = "";
        this.notice = "";
        try {
          const result = await api(method, path, body);
          if (done) done(result);
        } catch (err) {
          this.error = err.message;
        } finally {
          this.busy = false;
        }
      },

      async setState(state) {
        const reason = this.reason || "break";
        if (state === "logged_out") return this.act("POST", "/api/acd/me/logout", {});
        if (this.agent.state === "logged_out") {
          const body = state === "not_ready" ? { paused_reason: reason } : {};
          await this.act("POST", "/api/acd/me/login", body);
          if (state === "not_ready" || this.error) return;
        }
        if (state === "ready") return this.act("POST", "/api/acd/me/ready", {});
        return this.act("POST", "/api/acd/me/pause", { reason: reason });
      },
      control(action, extra) {
        if (!this.call) return;
        this.act("POST", "/api/desk/call/" + action, Object.assign({ call_id: this.call.id }, extra || {}));
      },
      callBack(number) {
        // Click to call from an order: the same dial-out as the number field.
        this.dialNumber = number;
        this.dial();
      },
      dial() {
        const number = this.dialNumber.trim();
        this.act("POST", "/api/desk/dial", { number: number }, () => { this.dialNumber = ""; });
      },
      register() {
        if (!this.call) return;
        const body = { call_id: this.call.id, name: this.newCustomer.name.trim(), gender: this.newCustomer.gender };
        this.act("POST", "/api/desk/register", body, () => { this.newCustomer = { name: "", gender: "U" }; });
      },
      pickup(id) { this.act("POST", "/api/acd/calls/" + encodeURIComponent(id) + "/pickup", {}); },
      finishWrapup(next) {
        const call = this.call ? { call_id: this.call.id } : {};
        this.act("POST", "/api/desk/wrapup", Object.assign({ next: next }, call, this.wrap), () => {
          this.wrap = { disposition: "", notes: "", order: "", work_order: "" };
        });
      },

      async station(text) {
        const found = await api("GET", "/api/ticketing/stations?q=" + encodeURIComponent(text.trim()));
        if (!found.length) throw new Error(text + ": " + (window.TL_TEXT || {}).noStation);
        return found[0].code;
      },
      async searchTrips() {
        if (this.busy) return;
        this.busy = true;
        this.error = "";
        try {
          const from = await this.station(this.trip.from);
          const to = await this.station(this.trip.to);
          const q = new URLSearchParams({ from: from, to: to, date: this.trip.date });
          this.trip.fromCode = from;
          this.trip.toCode = to;
          this.trip.results = await api("GET", "/api/ticketing/search?" + q.toString());
          this.chosen = null;
          if (!this.changing) this.order = null;
        } catch (err) {
          this.error = err.message;
        } finally {
          this.busy = false;
        }
      },
      time(iso) { return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); },
      choose(trip, seatClass) {
        this.chosen = trip;
        this.seatClass = seatClass;
        this.seatMap = null;
        this.pickedSeats = [];
        if (this.changing) this.quoteChange();
        else this.order = null;
      },
      customerId() { return this.call && this.call.customer ? this.call.customer.id : null; },
      async loadTravellers() {
        const id = this.customerId();
        if (id === this.travellersOf) return;
        this.travellersOf = id;
        this.travellers = [];
        if (!id) return;
        try {
          const found = await api("GET", "/api/desk/travellers/" + encodeURIComponent(id));
          if (this.travellersOf === id) this.travellers = found;
        } catch (err) {
          this.error = err.message;
        }
      },
      useTraveller(t) {
        const p = { name: t.name, id_type: t.id_type, id_number: t.id_number, passenger_type: t.passenger_type };
        const blank = this.passengers.findIndex((x) => !x.name && !x.id_number);
        if (blank >= 0) this.passengers[blank] = p;
        else this.passengers.push(p);
      },
      rememberTravellers() {
        // After a booking for a known caller: next time these passengers are one click.
        const id = this.customerId();
        if (!id) return;
        const body = { travellers: this.passengers };
        api("POST", "/api/desk/travellers/" + encodeURIComponent(id), body)
          .then((saved) => { if (this.travellersOf === id) this.travellers = saved; })
          .catch((err) => { this.error = err.message; });
      },
      loadSeatMap() {
        const q = new URLSearchParams({ from: this.trip.fromCode, to: this.trip.toCode, class_code: this.seatClass });
        const path = "/api/ticketing/trips/" + encodeURIComponent(this.chosen.trip_id) + "/seat-map?" + q.toString();
        this.act("GET", path, undefined, (seats) => {
          this.seatMap = seatRows(seats);
          this.pickedSeats = [];
        });
      },
      toggleSeat(seat) {
        const at = this.pickedSeats.indexOf(seat.seat_no);
        if (at >= 0) this.pickedSeats.splice(at, 1);
        else if (seat.free && this.pickedSeats.length < this.passengers.length) this.pickedSeats.push(seat.seat_no);
      },
      addPassenger() { this.passengers.push({ name: "", id_type: "id_card", id_number: "", passenger_type: "adult" }); },
      removePassenger(i) {
        if (this.passengers.length > 1) this.passengers.splice(i, 1);
        this.pickedSeats = this.pickedSeats.slice(0, this.passengers.length);
      },
      book(mode) {
        // mode: "book" (pay now), "hold" (seats kept a while, unpaid) or "credit" (pay later)
        const customer = this.call && this.call.customer;
        const body = {
          trip_id: this.chosen.trip_id,
          from_station: this.trip.fromCode,
          to_station: this.trip.toCode,
          class_code: this.seatClass,
          passengers: this.passengers,
          seats: this.pickedSeats,
          contact_name: customer ? customer.name : this.passengers[0].name,
          contact_phone: this.contactPhone || (this.call ? this.call.number : ""),
          locale: document.documentElement.lang === "en" ? "en" : "zh_CN",
          hold_only: mode === "hold",
          on_credit: mode === "credit",
          credit_due: mode === "credit" ? this.creditDue : null,
        };
        this.act("POST", "/api/ticketing/orders", body, (r) => {
          this.order = r.order;
          this.wrap.order = r.order.code;
          this.seatMap = null;
          this.pickedSeats = [];
          this.rememberTravellers();
        });
      },
      pay() {
        const key = "desk-" + this.order.code + "-" + Date.now();
        const body = { method: this.payMethod, amount_fen: this.order.balance_fen, key: key };
        if (this.payReference.trim()) body.reference = this.payReference.trim();
        this.act("POST", "/api/ticketing/orders/" + this.order.code + "/payments", body, (r) => {
          this.order = r;
          this.payReference = "";
        });
      },
      canIssue() {
        const o = this.order;
        return o && (o.state === "paid" || (o.state === "booked" && o.credit_due));
      },
      issue() {
        this.act("POST", "/api/ticketing/orders/" + this.order.code + "/issue", {}, (r) => {
          this.order = r;
          this.notice = "sms";
        });
      },
      openOrder() {
        const code = encodeURIComponent(this.orderCode.trim());
        this.act("GET", "/api/ticketing/orders/" + code, undefined, (r) => {
          this.order = r;
          this.quote = null;
          this.changing = null;
          this.changeQuote = null;
          this.wrap.order = r.code;
        });
      },
      refundQuote() {
        this.act("GET", "/api/ticketing/orders/" + this.order.code + "/refund-quote", undefined, (r) => {
          this.quote = r;
        });
      },
      refund() {
        // The amount shown is the amount confirmed: the server refuses if the rules moved on.
        const body = {
          expected_refund_fen: this.quote.refund_fen,
          method: "cash",
          key: "desk-refund-" + this.order.code + "-" + Date.now(),
        };
        this.act("POST", "/api/ticketing/orders/" + this.order.code + "/refund", body, (r) => {
          this.order = r;
          this.quote = null;
        });
      },
      startChange() {
        // One journey at a time, as the server wants: the first active ticket's.
        const active = this.order.tickets.filter((t) => t.status === "active");
        if (!active.length) return;
        const first = active[0];
        const same = (t) => t.service === first.service && t.service_date === first.service_date
          && t.from_station === first.from_station && t.to_station === first.to_station;
        this.changing = { code: this.order.code, ticketIds: active.filter(same).map((t) => t.id) };
        this.changeQuote = null;
        this.quote = null;
        this.chosen = null;
        this.trip.from = first.from_station;
        this.trip.to = first.to_station;
        this.trip.date = first.service_date;
        this.trip.results = [];
      },
      cancelChange() {
        this.changing = null;
        this.changeQuote = null;
        this.chosen = null;
      },
      changeBody() {
        return { ticket_ids: this.changing.ticketIds, trip_id: this.chosen.trip_id, class_code: this.seatClass };
      },
      quoteChange() {
        this.changeQuote = null;
        const path = "/api/ticketing/orders/" + this.changing.code + "/change-quote";
        this.act("POST", path, this.changeBody(), (r) => { this.changeQuote = r; });
      },
      change() {
        // As with refunds, the difference confirmed is the difference shown.
        const body = Object.assign(this.changeBody(), {
          expected_difference_fen: this.changeQuote.difference_fen,
          method: "cash",
          key: "desk-change-" + this.changing.code + "-" + Date.now(),
        });
        this.act("POST", "/api/ticketing/orders/" + this.changing.code + "/change", body, (r) => {
          this.order = r;
          this.cancelChange();
          this.trip.results = [];
        });
      },
      createWorkOrder() {
        const customer = this.call && this.call.customer;
        const body = Object.assign({}, this.wo, {
          title: this.wo.title.trim(),
          source: "phone",
          customer_id: customer ? customer.id : null,
          phone: this.call ? this.call.number : null,
          order_ref: this.wo.order_ref.trim() || (this.order ? this.order.code : null),
        });
        this.act("POST", "/api/workorders", body, (r) => {
          this.woCreated = r;
          this.woOpen = r;
          this.wrap.work_order = r.code;
          this.wo = emptyWorkOrder(this.wo.department);
        });
      },
      openWorkOrder(code) {
        this.act("GET", "/api/workorders/by-code/" + encodeURIComponent(code), undefined, (r) => {
          this.woOpen = r;
          this.woNote = { text: "", public: false, action: "" };
        });
      },
      async updateWorkOrder() {
        // The state change (an internal note rides along as its comment), then a reply.
        if (this.busy) return;
        this.busy = true;
        this.error = "";
        const wo = this.woOpen;
        const note = this.woNote;
        const text = note.text.trim();
        const base = "/api/workorders/" + encodeURIComponent(wo.id);
        try {
          if (note.action) {
            await api("POST", base + "/transitions", { action: note.action, comment: note.public ? "" : text });
          }
          if (text && (note.public || !note.action)) {
            await api("POST", base + "/notes", { text: text, public: note.public });
          }
          this.woOpen = await api("GET", "/api/workorders/by-code/" + encodeURIComponent(wo.code));
          this.woNote = { text: "", public: false, action: "" };
        } catch (err) {
          this.error = err.message;
        } finally {
          this.busy = false;
        }
      },
      searchKb() {
        const q = new URLSearchParams({ q: this.kb.q.trim(), limit: "8" });
        this.act("GET", "/api/kb/search?" + q.toString(), undefined, (hits) => {
          this.kb.hits = hits;
          this.kb.article = null;
          this.kb.searched = true;
        });
      },
      suggestKb() {
        const q = new URLSearchParams({ work_order_type: this.wo.type });
        this.act("GET", "/api/kb/suggestions?" + q.toString(), undefined, (hits) => {
          this.kb.hits = hits;
          this.kb.article = null;
          this.kb.searched = true;
        });
      },
      openArticle(id) {
        this.act("GET", "/api/kb/articles/" + encodeURIComponent(id), undefined, (a) => { this.kb.article = a; });
      },
    };
  };
})();
