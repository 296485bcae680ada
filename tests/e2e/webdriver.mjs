// A small WebDriver client (W3C protocol over HTTP, Node's fetch) for driving the real Pagewise
// app through tauri-driver and WebKitWebDriver. Only what the tests use.
import { spawn } from "node:child_process";
import { openSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export class Driver {
  constructor(port) {
    this.base = `http://127.0.0.1:${port}`;
  }

  /// Start tauri-driver (which starts WebKitWebDriver) and wait until it answers.
  /// Its output goes to `log` (it reports harmless connection errors while WebKitWebDriver
  /// starts); the tests print it when they fail.
  static async launch({ port = 4444, env = {}, log = "/dev/null" } = {}) {
    const native = process.env.WEBKIT_WEBDRIVER ?? "/usr/bin/WebKitWebDriver";
    const out = openSync(log, "w");
    const proc = spawn(process.env.TAURI_DRIVER ?? "tauri-driver", ["--port", String(port), "--native-port", String(port + 1), "--native-driver", native], {
      env: { ...process.env, ...env },
      stdio: ["ignore", out, out],
    });
    const driver = new Driver(port);
    driver.proc = proc;
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(`${driver.base}/status`);
        return driver;
      } catch {
        await sleep(100);
      }
    }
    proc.kill();
    throw new Error("tauri-driver did not start (is it installed? `cargo install tauri-driver`)");
  }

  async request(method, path, body) {
    const res = await fetch(this.base + path, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${res.status} ${JSON.stringify(json.value ?? json).slice(0, 400)}`);
    return json.value;
  }

  /// A session on a fresh start of the application binary.
  async session(application) {
    const value = await this.request("POST", "/session", { capabilities: { alwaysMatch: { "tauri:options": { application } } } });
    return new Session(this, value.sessionId);
  }

  stop() {
    this.proc?.kill();
  }
}

export class Session {
  constructor(driver, id) {
    this.driver = driver;
    this.id = id;
  }

  cmd(method, path, body) {
    return this.driver.request(method, `/session/${this.id}${path}`, body);
  }

  async close() {
    await this.cmd("DELETE", "").catch(() => {});
  }

  exec(script, ...args) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  /// Wait until `f()` returns something truthy (polling), or fail saying what was awaited.
  async until(what, f, timeout = 20000) {
    const end = Date.now() + timeout;
    let last;
    while (Date.now() < end) {
      try {
        last = await f();
        if (last) return last;
      } catch (e) {
        last = e;
      }
      await sleep(50);
    }
    throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
  }

  async find(css) {
    const el = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return el[ELEMENT];
  }

  async findAll(css) {
    return (await this.cmd("POST", "/elements", { using: "css selector", value: css })).map((e) => e[ELEMENT]);
  }

  /// The element once it exists.
  async wait(css, timeout) {
    return this.until(`element ${css}`, () => this.find(css), timeout);
  }

  /// Click the element once it exists. The app re-renders lists as the library changes, so an
  /// element found may be replaced before the click lands ("stale element reference"): then
  /// it is found again (a few times); any other failure fails the click at once.
  async click(css) {
    for (let tries = 1; ; tries++) {
      const el = await this.wait(css);
      try {
        await this.cmd("POST", `/element/${el}/click`, {});
        return;
      } catch (e) {
        if (tries >= 5 || !/stale element reference/.test(e.message)) throw e;
      }
    }
  }

  async type(css, text) {
    const el = await this.wait(css);
    await this.cmd("POST", `/element/${el}/clear`, {}).catch(() => {});
    await this.cmd("POST", `/element/${el}/value`, { text });
  }

  async text(css) {
    return this.cmd("GET", `/element/${await this.wait(css)}/text`);
  }

  /// Press keys on the focused element (WebDriver key codes, e.g. "\uE007" Enter).
  async keys(text) {
    const actions = [...text].flatMap((c) => [
      { type: "keyDown", value: c },
      { type: "keyUp", value: c },
    ]);
    await this.cmd("POST", "/actions", { actions: [{ type: "key", id: "keyboard", actions }] });
    await this.cmd("DELETE", "/actions").catch(() => {});
  }

  async screenshot(path) {
    // Let the page paint what the last step changed.
    await this.cmd("POST", "/execute/async", { script: "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50)))", args: [] });
    const png = await this.cmd("GET", "/screenshot");
    writeFileSync(path, Buffer.from(png, "base64"));
  }
}

export const KEY = { enter: "\uE007", right: "\uE014", left: "\uE012", escape: "\uE00C" };
