"""GUI probes the benchmark (engine.bench.gui_probe) runs as child processes:
`python -m gui.bench_probes.startup` and `python -m gui.bench_probes.gap CONFIG_JSON TIMEOUT_S`.
They live in gui/ because the engine never imports Qt."""
