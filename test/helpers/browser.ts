import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (test/install-services.sh installs it): playwright-core never downloads a browser here. */
export const CHROMIUM = '/usr/bin/chromium';

/** Headless, offline: nothing of Chromium's own talks to the network or a GPU. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run test/install-services.sh (as root or with sudo), or apt-get install chromium`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}
