"""Real-time metrics, historical aggregates, exports, Erlang C."""
