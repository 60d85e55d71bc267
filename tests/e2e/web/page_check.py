#!/usr/bin/python3
"""The ipmanager web page in a real headless Chromium.

Debian's chromium and chromium-driver, driven by python3-selenium (Debian's /usr/bin/python3
has it). Run by tests/e2e/web_page_e2e_test.cpp against a real nginx pool and the real
ipmanager binary, or by tests/bench/page_bench.py; exits 0 when every check passed and
prints one line per check.

  page_check.py --url http://127.0.0.1:PORT --ips A,B,C [--token T] [--screenshot F]
  page_check.py --url ... --ips ... --site-cooling IP=SITE   health per target site: IP is
      cooling for SITE only (the test made it so with real traffic); the Sites column says so
  page_check.py --url ... --ips ... --restart-dir D   the reconnection check: writes
      D/page-open once the page is live, then waits for D/restarted (the IP the restarted
      process banned) and for the open page to show it without a reload
"""
import os
import argparse
import json
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-dev-shm-usage', '--force-device-scale-factor=1']


class Failure(Exception):
    pass


def check(ok, what):
    if not ok:
        raise Failure(what)
    print('ok:', what, flush=True)


def start_browser(profile, width=1280, height=900):
    options = webdriver.ChromeOptions()
    options.binary_location = '/usr/bin/chromium'
    for flag in FLAGS + ['--user-data-dir=' + profile, f'--window-size={width},{height}']:
        options.add_argument(flag)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    return webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=options)


class Probe:
    """The probe's own API, as curl would use it."""

    def __init__(self, url, token=''):
        self.url = url.rstrip('/')
        self.token = token

    def post(self, path, token=None):
        request = urllib.request.Request(self.url + path, method='POST', data=b'')
        if token:
            request.add_header('Authorization', 'Bearer ' + token)
        try:
            with urllib.request.urlopen(request, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def disabled(self, ip):
        with urllib.request.urlopen(self.url + '/api/ip/' + ip, timeout=5) as r:
            return json.load(r)['disabled']

    def states(self):
        with urllib.request.urlopen(self.url + '/probe?limit=0', timeout=5) as r:
            doc = json.load(r)
        return {ip: v['State'] for ip, v in doc['IPHistory'].items()}


def wait(driver, predicate, what, timeout=10):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: predicate())
    except TimeoutException:
        raise Failure('timed out: ' + what)


def wait_state(probe, ip, state, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe.states().get(ip) == state:
            return True
        time.sleep(0.05)
    return False


def wait_disabled(probe, ip, disabled, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe.disabled(ip) == disabled:
            return True
        time.sleep(0.05)
    return False


def row_badge(driver, ip):
    return driver.execute_script(
        'for (const tr of document.querySelectorAll("#pool tbody tr"))'
        '  if (tr.querySelector("th").textContent === arguments[0])'
        '    return tr.querySelector(".badge").textContent;'
        'return null;', ip)


def row_state(driver, ip):
    return driver.execute_script(
        'for (const tr of document.querySelectorAll("#pool tbody tr"))'
        '  if (tr.querySelector("th").textContent === arguments[0]) return tr.dataset.state;'
        'return null;', ip)


def manage(driver, ip):
    driver.find_element(By.CSS_SELECTOR, f'button[aria-label="Manage {ip}"]').click()
    wait(driver, lambda: driver.find_element(By.ID, 'act').get_attribute('open') is not None,
         'the actions dialog opens')


def action_button(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f'#act-actions button[data-action="{name}"]')


def open_page(driver, url, ips):
    driver.get(url)
    wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, '#pool tbody tr')) == len(ips),
         f'the table lists {len(ips)} egresses', timeout=20)
    shown = set(driver.execute_script(
        'return [...document.querySelectorAll("#pool tbody th")].map((th) => th.textContent);'))
    check(shown == set(ips), f'the page lists every IP of the pool ({len(ips)})')
    wait(driver, lambda: driver.find_element(By.ID, 'status').text == 'live', 'the stream is live')


def console_errors(driver, allowed=()):
    errors = []
    for entry in driver.get_log('browser'):
        if entry['level'] in ('SEVERE', 'ERROR') and not any(a in entry['message'] for a in allowed):
            errors.append(entry['message'])
    return errors


def foreign_loads(driver, url):
    origin = urllib.parse.urlsplit(url)
    names = driver.execute_script(
        'return performance.getEntriesByType("navigation").concat('
        'performance.getEntriesByType("resource")).map((e) => e.name);')
    return [n for n in names
            if urllib.parse.urlsplit(n)[:2] != origin[:2] and not n.startswith('data:')]


def basic(driver, probe, url, ips, screenshot):
    open_page(driver, url, ips)

    # A ban through the API shows on the open page without a reload.
    before = driver.execute_script('return performance.timeOrigin + performance.now();')
    check(probe.post(f'/api/ip/{ips[1]}/ban?for=10m&reason=api-ban') == 200, 'API ban accepted')
    wait(driver, lambda: row_state(driver, ips[1]) == 'banned', 'API ban shows on the page', 5)
    seen = driver.execute_script('return performance.timeOrigin + performance.now();')
    check(seen - before < 2500, f'the API ban showed on the open page after {seen - before:.0f} ms')
    check(driver.execute_script('return performance.getEntriesByType("navigation").length') == 1
          and driver.execute_script('return window.ipmanagerPage.stats.updates') > 0,
          'no reload: the page updated in place')

    # The page's own ban, with a duration and a reason, checked through /probe.
    manage(driver, ips[2])
    driver.find_element(By.CSS_SELECTOR, '#act-actions input[name="for"]').send_keys('5m')
    driver.find_element(By.CSS_SELECTOR, '#act-actions input[name="reason"]').send_keys('from the page')
    action_button(driver, 'ban').click()
    check(wait_state(probe, ips[2], 'banned'), "the page's Ban button banned the IP (/probe)")
    wait(driver, lambda: row_state(driver, ips[2]) == 'banned', 'its row turns banned')
    wait(driver, lambda: 'from the page' in driver.find_element(By.ID, 'pool').text,
         'the reason shows in the table')

    # Unban and reset from the page, by keyboard: Tab to the row's button, Enter, Tab, Enter.
    button = driver.find_element(By.CSS_SELECTOR, f'button[aria-label="Manage {ips[1]}"]')
    driver.execute_script('arguments[0].focus()', button)
    button.send_keys(Keys.ENTER)
    wait(driver, lambda: driver.find_element(By.ID, 'act').get_attribute('open') is not None,
         'Enter on Manage opens the dialog')
    action_button(driver, 'unban').send_keys(Keys.ENTER)
    check(wait_state(probe, ips[1], 'available'), 'Unban from the page, by keyboard (/probe)')
    manage(driver, ips[2])
    action_button(driver, 'reset').click()
    check(wait_state(probe, ips[2], 'available'), 'Reset from the page (/probe)')
    # Disable and enable from the page (issue 18): /api/ip/{ip} and the row's badge say so.
    manage(driver, ips[2])
    action_button(driver, 'disable').click()
    check(wait_disabled(probe, ips[2], True), "the page's Disable button disabled the IP")
    wait(driver, lambda: row_badge(driver, ips[2]) == 'available · disabled',
         'its row says disabled')
    manage(driver, ips[2])
    action_button(driver, 'enable').click()
    check(wait_disabled(probe, ips[2], False), 'Enable from the page')
    wait(driver, lambda: row_badge(driver, ips[2]) == 'available', 'its row is plain available again')
    manage(driver, ips[0])
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(driver, lambda: driver.find_element(By.ID, 'act').get_attribute('open') is None,
         'Escape closes the dialog')

    # Filter by text and by state, and sort.
    box = driver.find_element(By.ID, 'filter-text')
    box.send_keys(ips[0])
    visible = driver.execute_script(
        'return [...document.querySelectorAll("#pool tbody tr")].filter((tr) => !tr.hidden).length;')
    check(visible == 1, 'the text filter leaves one row')
    box.clear()
    box.send_keys(' ')  # an input event with an empty query
    driver.find_element(By.CSS_SELECTOR, '#pool th[data-key="state"] button').click()
    check(driver.find_element(By.CSS_SELECTOR, '#pool th[data-key="state"]')
          .get_attribute('aria-sort') == 'ascending', 'the State column sorts')

    # Errors are shown, not swallowed: a bad duration is refused with the server's reason.
    manage(driver, ips[0])
    driver.find_element(By.CSS_SELECTOR, '#act-actions input[name="for"]').send_keys('soon')
    action_button(driver, 'ban').click()
    wait(driver, lambda: 'refused (400)' in driver.find_element(By.ID, 'act-error').text,
         'a bad duration shows the 400 and its reason')
    check(probe.states()[ips[0]] == 'available', 'and changes nothing')
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)

    # Readable at 1280 px; the screenshot for the record.
    if screenshot:
        probe.post(f'/api/ip/{ips[-1]}/ban?for=30m&reason=abuse-report')
        wait(driver, lambda: row_state(driver, ips[-1]) == 'banned', 'last IP banned for the picture')
        driver.execute_script('window.scrollTo(0, 0);'
                              'document.querySelector(".table-wrap").scrollLeft = 0;')
        driver.save_screenshot(screenshot)
        print('screenshot:', screenshot)
    width, table, wrap = driver.execute_script(
        'return [document.documentElement.scrollWidth, document.querySelector("#pool").scrollWidth,'
        ' document.querySelector(".table-wrap").clientWidth];')
    check(width <= 1280 and table <= wrap,
          f'readable at 1280 px: no sideways scrolling of the page ({width}) or the table ({table} <= {wrap})')

    # And at a phone's width: the page itself does not scroll sideways.
    driver.set_window_size(390, 844)
    time.sleep(0.3)
    inner, scroll = driver.execute_script(
        'return [window.innerWidth, document.documentElement.scrollWidth];')
    check(scroll <= inner, f'no horizontal overflow at a phone width ({scroll} <= {inner})')
    check(driver.find_element(By.CSS_SELECTOR, '#pool tbody th').is_displayed(),
          'the table shows at a phone width')
    if screenshot:
        driver.save_screenshot(screenshot.replace('.png', '-phone.png'))


def ban_asks_for_token(driver, what):
    action_button(driver, 'ban').click()
    wait(driver, lambda: driver.find_element(By.ID, 'token').get_attribute('open') is not None,
         what)


def token(driver, probe, url, ips, secret):
    open_page(driver, url, ips)
    target = ips[0]

    # Without the token: the page asks; cancelled, the request goes out bare and is refused.
    manage(driver, target)
    ban_asks_for_token(driver, 'the page asks for the token')
    driver.find_element(By.ID, 'token-cancel').click()
    wait(driver, lambda: 'refused (401)' in driver.find_element(By.ID, 'act-error').text,
         'the ban without the token is refused (401) and says so')
    check(probe.states()[target] == 'available', 'the refused ban changed nothing (/probe)')

    # A wrong token: refused, and not kept.
    ban_asks_for_token(driver, 'asked again')
    driver.find_element(By.ID, 'token-input').send_keys('wrong' + Keys.ENTER)
    wait(driver, lambda: 'invalid token' in driver.find_element(By.ID, 'act-error').text,
         'a wrong token is refused')
    check(probe.states()[target] == 'available', 'the wrong token changed nothing (/probe)')

    # The right one: the ban goes through, and the token is kept in this tab only.
    ban_asks_for_token(driver, 'asked once more')
    driver.find_element(By.ID, 'token-input').send_keys(secret + Keys.ENTER)
    check(wait_state(probe, target, 'banned'), 'with the token the ban succeeds (/probe)')
    wait(driver, lambda: row_state(driver, target) == 'banned', 'and shows on the page')
    stored = driver.execute_script(
        'return [sessionStorage.getItem("ipmanager.api_token"), localStorage.length, document.cookie];')
    check(stored == [secret, 0, ''], 'the token is in sessionStorage only')

    # Asked once: the next action uses the kept token without asking.
    manage(driver, target)
    action_button(driver, 'unban').click()
    check(wait_state(probe, target, 'available'), 'unban with the kept token (/probe)')
    check(driver.find_element(By.ID, 'token').get_attribute('open') is None, 'without asking again')


def sites_cell(driver, ip):
    """The Sites cell of `ip`'s row: [text, title], or None without such a row."""
    return driver.execute_script(
        'for (const tr of document.querySelectorAll("#pool tbody tr"))'
        '  if (tr.querySelector("th").textContent === arguments[0]) {'
        '    const td = tr.querySelector("td.sites"); return [td.textContent, td.title]; }'
        'return null;', ip)


def site_cooling(driver, probe, url, ips, cooling):
    ip, site = cooling.split('=', 1)
    open_page(driver, url, ips)
    text, title = sites_cell(driver, ip)
    check(site in text.split(', '), f'the Sites column of {ip} names {site} ({text!r})')
    check(f'{site}: cooling' in title, f'its tooltip says cooling for {site} ({title!r})')
    check(row_state(driver, ip) == 'available',
          f'{ip} itself stays available: it serves every other site')
    others = [other for other in ips if other != ip]
    check(all(sites_cell(driver, other)[0] == '' for other in others),
          'no other row names a site')

    # A ban of another IP for another site shows on the open page, then goes, without a reload.
    other = others[0]
    check(probe.post(f'/api/ip/{other}/ban?target=b.example&for=10m&reason=page-site') == 200,
          f'API ban of {other} for b.example accepted')
    wait(driver, lambda: sites_cell(driver, other)[0] == 'b.example',
         f'the open page shows {other} out for b.example', 5)
    check('b.example: banned' in sites_cell(driver, other)[1] and
          'page-site' in sites_cell(driver, other)[1], 'with its state and reason in the tooltip')
    check(row_state(driver, other) == 'available', f'{other} stays available for the rest')
    check(probe.post(f'/api/ip/{other}/unban?target=b.example') == 200, 'API unban for b.example')
    wait(driver, lambda: sites_cell(driver, other)[0] == '', 'and the open page drops it', 5)
    check(driver.execute_script('return performance.getEntriesByType("navigation").length') == 1,
          'no reload: the Sites column updated in place')


def wait_for_file(path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                text = f.read().strip()
            if text:
                return text
        time.sleep(0.05)
    raise Failure('timed out waiting for ' + path)


def restart(driver, url, ips, folder):
    open_page(driver, url, ips)
    check(all(row_state(driver, ip) == 'available' for ip in ips), 'every IP available at first')
    with open(os.path.join(folder, 'page-open.tmp'), 'w') as f:
        f.write('live\n')
    os.rename(os.path.join(folder, 'page-open.tmp'), os.path.join(folder, 'page-open'))
    wait(driver, lambda: driver.find_element(By.ID, 'status').text != 'live',
         'the page says it lost the stream when the process stops', timeout=30)
    banned = wait_for_file(os.path.join(folder, 'restarted'), 60)
    wait(driver, lambda: row_state(driver, banned) == 'banned',
         'the open page shows the restarted process\'s ban without a reload', timeout=20)
    check(True, f'after the restart the page reconnected by itself and shows {banned} banned')
    wait(driver, lambda: driver.find_element(By.ID, 'status').text == 'live', 'the stream is live again')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--url', required=True)
    parser.add_argument('--ips', required=True)
    parser.add_argument('--token', default='')
    parser.add_argument('--screenshot', default='')
    parser.add_argument('--restart-dir', default='')
    parser.add_argument('--site-cooling', default='')
    args = parser.parse_args()
    ips = args.ips.split(',')
    probe = Probe(args.url)

    with tempfile.TemporaryDirectory(prefix='ipm-chromium-') as profile:
        driver = start_browser(profile)
        try:
            if args.restart_dir:
                restart(driver, args.url, ips, args.restart_dir)
                # While the process is down, Chromium logs each refused reconnection.
                allowed = ('net::ERR_',)
            elif args.site_cooling:
                site_cooling(driver, probe, args.url, ips, args.site_cooling)
                allowed = ()
            elif args.token:
                token(driver, probe, args.url, ips, args.token)
                # Chromium logs each 401 answer as a failed resource load: those are expected.
                allowed = ('status of 401',)
            else:
                basic(driver, probe, args.url, ips, args.screenshot)
                allowed = ('status of 400',)
            errors = console_errors(driver, allowed)
            check(not errors, 'the browser console has no errors' + (': ' + '; '.join(errors) if errors else ''))
            foreign = foreign_loads(driver, args.url)
            check(not foreign, 'nothing loaded from another host' + (': ' + ', '.join(foreign) if foreign else ''))
        except Failure as e:
            print('FAILED:', e, flush=True)
            for entry in driver.get_log('browser'):
                print('console:', entry['level'], entry['message'])
            return 1
        finally:
            driver.quit()
    return 0


if __name__ == '__main__':
    sys.exit(main())
