"""Voice menus as data: flow schema, flow engine, prompts, speech input, simulator."""
