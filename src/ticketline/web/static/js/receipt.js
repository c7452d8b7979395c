(function () {
  "use strict";
  // The receipt number changes with every payment or refund: order code and entry count.
  window.tlReceipt = function () {
    const choices = JSON.parse(document.getElementById("receipt-choices").textContent);
    return {
      company: choices.company, text: JSON.parse(document.getElementById("receipt-text").textContent),
      order: null, error: "",
      async init() {
        try { this.order = await window.tlApi("GET", "/api/ticketing/orders/" + encodeURIComponent(choices.code)); }
        catch (e) { this.error = e.message; }
      },
      number() { return this.order.code + "-" + String(this.order.payments.length).padStart(2, "0"); },
      yuan(fen) { return (fen / 100).toFixed(2); },
    };
  };
})();
