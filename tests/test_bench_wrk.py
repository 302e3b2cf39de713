"""Reading wrk's summary (压测结果解析): rates, percentiles and errors; a run where nothing finished
is counted as one error per connection, never as a clean 0 requests/s."""

from __future__ import annotations

from bench.load import parse_wrk

NORMAL = """Running 8s test @ http://127.0.0.1:8000/cases
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    92.10ms   20.11ms 310.00ms   80.00%
  Latency Distribution
     50%   88.50ms
     75%  100.20ms
     90%  120.00ms
     99%    1.20s
  1337 requests in 8.00s, 30.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:    167.12
Transfer/sec:      3.75MB
"""
STUCK = """Running 8s test @ http://127.0.0.1:8001/collections/public.cases/tiles/12/3260/1587
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  0 requests in 8.00s, 0.00B read
Requests/sec:      0.00
Transfer/sec:       0.00B
"""


def test_a_normal_run_gives_rate_percentiles_and_errors() -> None:
    sample = parse_wrk(NORMAL, 16)
    assert (sample.rate, sample.requests, sample.errors) == (167.12, 1337, 3)
    assert sample.p50_ms == 88.5 and sample.p99_ms == 1200.0


def test_a_run_where_nothing_finished_counts_every_connection_as_an_error() -> None:
    sample = parse_wrk(STUCK, 16)
    assert (sample.rate, sample.requests, sample.errors) == (0.0, 0, 16)
