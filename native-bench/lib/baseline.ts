import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, realpathSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A second ringgate build measured in the same run as this checkout (BENCH_RINGGATE_BASELINE). */
export interface Baseline {
  /** The revision as given (`HEAD~3`), for the report. */
  readonly revision: string;
  readonly commit: string;
  readonly short: string;
  /** Where its throwaway worktree goes: outside the repository, unique to this bench process. */
  readonly root: string;
}

function git(repo: string, args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** `git diff --quiet` exits 0 when there is no difference. */
function sameAsWorkingTree(repo: string, commit: string, path: string): boolean {
  return spawnSync('git', ['diff', '--quiet', commit, '--', path], { cwd: repo }).status === 0;
}

/** Resolves the revision at once, so a typo fails before the bench installs or builds anything. */
export function resolveBaseline(repo: string, revision: string): Baseline {
  const found = spawnSync('git', ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`], { cwd: repo, encoding: 'utf8' });
  if (found.status !== 0) throw new Error(`BENCH_RINGGATE_BASELINE: ${JSON.stringify(revision)} is not a commit of this repository`);
  const commit = found.stdout.trim();
  const short = git(repo, ['rev-parse', '--short', commit]);
  return { revision, commit, short, root: join(tmpdir(), `ringgate-base-${short}-${process.pid}`) };
}

/** What the ringgate-* candidates run: `npm run bench` builds dist/ from the working tree, changes included. */
export function describeCheckout(repo: string): string {
  const short = git(repo, ['rev-parse', '--short', 'HEAD']);
  return sameAsWorkingTree(repo, 'HEAD', '.') ? `this checkout at ${short}` : `this checkout at ${short} with uncommitted changes`;
}

/**
 * Checks the baseline out as a detached worktree and builds it as ringgate is built (`npm run
 * build`). With the same lockfile it borrows this checkout's node_modules through a symlink (the
 * same packages, nothing to install); otherwise it runs npm install there, as the Dockerfile and
 * .ci/run do (npm ci rejects this repository's lockfile). Returns the function removing the worktree,
 * which also runs at exit, so a failed or interrupted bench (proc.ts exits on SIGINT/SIGTERM)
 * leaves no worktree registered in the repository.
 */
export function checkOutBaseline(repo: string, baseline: Baseline, log: (line: string) => void): () => void {
  const { root, commit } = baseline;
  const modules = join(root, 'node_modules');
  let added = false;
  const remove = (): void => {
    process.off('exit', remove);
    if (!added) return;
    added = false;
    // Unlink the borrowed node_modules first, so no removal below can reach this checkout's packages.
    if (lstatSync(modules, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(modules);
    const removed = spawnSync('git', ['worktree', 'remove', '--force', root], { cwd: repo, encoding: 'utf8' });
    if (removed.status !== 0) log(`baseline: git worktree remove failed (${removed.stderr.trim()}); git worktree prune drops its entry`);
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', remove);

  log(`baseline: ${baseline.revision} = ${baseline.short}, worktree in ${root}`);
  git(repo, ['worktree', 'add', '--detach', '--quiet', root, commit]);
  added = true;
  // The child's stdout goes to stderr too: the bench's stdout is its report.
  const run = (command: string, args: string[]): void => {
    execFileSync(command, args, { cwd: root, stdio: ['ignore', 2, 2] });
  };
  if (sameAsWorkingTree(repo, commit, 'package-lock.json')) symlinkSync(realpathSync(join(repo, 'node_modules')), modules, 'dir');
  else run('npm', ['install', '--no-audit', '--no-fund']);
  run('npm', ['run', 'build']);
  return remove;
}
