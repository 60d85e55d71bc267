#!/usr/bin/python3
"""How the web page keeps up with a large pool: 1,000 egresses (by default) in headless
Chromium, with every egress's numbers moving every second and some changing state.

The ipmanager binary follows an access log that this script writes itself (lines in the
default format, ~RATE a second over every egress, a tenth of the egresses answering 429 so
they keep cycling cooling -> probation -> cooling); no nginx runs, the proxy carries nothing.
The page measures itself (window.ipmanagerPage.stats: performance.now() around the snapshot
render and around each batch of events, and PerformanceObserver long tasks); this script
also counts the bytes of the event stream.

  flock /work/wt/bench.lock tests/bench/page_bench.py --binary build/release/app/ipmanager
"""
import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'e2e', 'web'))
from page_check import start_browser, wait  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def ip_of(k):  # 127.0.1.1 + k, as gen-pool.sh counts
    n = (127 << 24) + (1 << 8) + 1 + k
    return '.'.join(str((n >> s) & 255) for s in (24, 16, 8, 0))


def write_log(path, count, rate, stop):
    bad = set(random.Random(1).sample(range(count), count // 10))
    with open(path, 'a', buffering=1 << 16) as log:
        while not stop.is_set():
            start = time.monotonic()
            stamp = time.strftime('%d/%b/%Y:%H:%M:%S +0000', time.gmtime())
            for _ in range(rate // 10):
                k = random.randrange(count)
                status = 429 if k in bad and random.random() < 0.7 else 200
                log.write(f'127.0.0.1 - - [{stamp}] "GET /x HTTP/1.1" {status} 18 "-" "bench" '
                          f'127.0.0.1:{20001 + k} egress={ip_of(k)} upstream_status={status} '
                          f'rt=0.001 Exgress_key: k1 -> Request Host: example.com <-\n')
            log.flush()
            time.sleep(max(0.0, 0.1 - (time.monotonic() - start)))


def count_stream_bytes(url, seconds, out):
    with urllib.request.urlopen(url + 'api/events', timeout=10) as r:
        r.read1(1 << 22)  # the snapshot
        end = time.monotonic() + seconds
        total = 0
        while time.monotonic() < end:
            total += len(r.read1(1 << 16))
        out.append(total / seconds)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--binary', default=os.path.join(ROOT, 'build/release/app/ipmanager'))
    p.add_argument('--ips', type=int, default=1000)
    p.add_argument('--rate', type=int, default=5000, help='log lines a second')
    p.add_argument('--seconds', type=int, default=30)
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix='ipm-page-bench-') as work:
        log = os.path.join(work, 'access.log')
        open(log, 'w').close()
        subprocess.run([os.path.join(ROOT, 'deploy/gen-pool.sh'), '-n', str(args.ips), '-p', '20001',
                        '-l', '127.0.0.1', '--log', log, '--target', '127.0.0.1:9',
                        '-o', os.path.join(work, 'pool.conf')], check=True)
        probe_port = free_port()
        with open(os.path.join(work, 'config.yaml'), 'w') as c:
            c.write(f'upstream_conf_path: {work}/pool.conf\naccess_log_path: {log}\n'
                    f'probe_port: {probe_port}\nproxy_port: {free_port()}\n'
                    f'cool_down_min: 3s\nmax_ejected_percent: 50\n')
        ipm = subprocess.Popen([args.binary, '--config', os.path.join(work, 'config.yaml')],
                               stderr=open(os.path.join(work, 'ipm.log'), 'w'))
        stop = threading.Event()
        writer = threading.Thread(target=write_log, args=(log, args.ips, args.rate, stop))
        url = f'http://127.0.0.1:{probe_port}/'
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(url + 'ping', timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.1)
            writer.start()
            time.sleep(2)
            with tempfile.TemporaryDirectory(prefix='ipm-chromium-') as profile:
                driver = start_browser(profile)
                try:
                    driver.get(url)
                    wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, '#pool tbody tr'))
                         == args.ips, f'{args.ips} rows', timeout=60)
                    first = driver.execute_script('return {...window.ipmanagerPage.stats};')
                    driver.execute_script(
                        'const s = window.ipmanagerPage.stats;'
                        's.updates = 0; s.updateMsTotal = 0; s.updateMsMax = 0; s.longTasks = 0;')
                    rate = []
                    counter = threading.Thread(target=count_stream_bytes,
                                               args=(url, min(args.seconds, 20), rate))
                    counter.start()
                    time.sleep(args.seconds)
                    counter.join()
                    s = driver.execute_script('return {...window.ipmanagerPage.stats};')
                    # Sorting by state with live updates re-sorts 1,000 rows on every tick.
                    driver.find_element(By.CSS_SELECTOR, '#pool th[data-key="state"] button').click()
                    driver.execute_script(
                        'const s = window.ipmanagerPage.stats;'
                        's.updates = 0; s.updateMsTotal = 0; s.updateMsMax = 0; s.longTasks = 0;')
                    time.sleep(10)
                    sorted_s = driver.execute_script('return {...window.ipmanagerPage.stats};')
                finally:
                    driver.quit()
        finally:
            stop.set()
            if writer.is_alive():
                writer.join()
            ipm.terminate()
            ipm.wait(timeout=10)

    avg = s['updateMsTotal'] / max(1, s['updates'])
    savg = sorted_s['updateMsTotal'] / max(1, sorted_s['updates'])
    print(f'page_bench: {args.ips} egresses, {args.rate} log lines/s, {args.seconds} s')
    print(f'  snapshot render: {first["snapshotMs"]:.1f} ms')
    print(f'  live updates: {s["updates"]} batches, {avg:.2f} ms mean, {s["updateMsMax"]:.1f} ms max, '
          f'{s["longTasks"]} long tasks (>50 ms)')
    print(f'  sorted by state: {sorted_s["updates"]} batches, {savg:.2f} ms mean, '
          f'{sorted_s["updateMsMax"]:.1f} ms max, {sorted_s["longTasks"]} long tasks')
    if rate:
        print(f'  event stream: {rate[0] / 1000:.1f} KB/s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
