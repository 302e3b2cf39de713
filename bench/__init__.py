"""Benchmarks (基准测试): VillageMap side by side with the tools users would pick instead; see bench/README.md."""
