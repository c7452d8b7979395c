// One WebSocket per tab. Remembers the last sequence number so that a
// reconnect replays what was missed; a page (re)load starts from a snapshot.
// Pages listen for `tl:snapshot`, `tl:push` and `tl:status` events on window.
(function () {
  "use strict";
  let lastSeq = 0;
  let delay = 500;
  let socket = null;
  let pinger = null;
  let stopped = false;
  const isDesk = location.pathname === "/desk";

  function emit(name, detail) {
    window.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  function remember(seq) {
    lastSeq = seq;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = [];
    if (lastSeq) query.push("since=" + lastSeq);
    if (isDesk) query.push("desk=1");
    const suffix = query.length ? "?" + query.join("&") : "";
    socket = new WebSocket(scheme + "://" + location.host + "/ws" + suffix);
    socket.onopen = function () {
      delay = 500;
      emit("tl:status", { connected: true });
      pinger = setInterval(function () { socket.send("ping"); }, 20000);
    };
    socket.onmessage = function (message) {
      const frame = JSON.parse(message.data);
      if (frame.type === "snapshot") {
        remember(frame.seq);
        emit("tl:snapshot", frame.data);
      } else if (frame.type === "taken_over") {
        stopped = true;  // this person's desk is open elsewhere now
        emit("tl:taken_over", {});
      } else if (frame.type === "push") {
        remember(frame.seq);
        emit("tl:push", { kind: frame.kind, data: frame.data, seq: frame.seq });
      }
    };
    socket.onclose = function (event) {
      clearInterval(pinger);
      emit("tl:status", { connected: false });
      if (stopped || event.code === 4409) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  }

  window.ticketlineRealtime = {
    send: function (text) { if (socket && socket.readyState === 1) socket.send(text); },
  };
  connect();
})();
