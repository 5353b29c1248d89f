/**
 * The canonical spelling rules match process command lines, arguments and paths in (review finding
 * M1): what the kernel or a shell treats as the same command is one text, so `/dev//tcp`,
 * `cat /etc/./shadow`, `base64 --d`, `c"ur"l` or a run of tabs cannot step around a rule written
 * for the plain spelling. Only the text rules see is canonical; documents keep what was run.
 *
 * Command texts (process.command_line, process.args, and the parent's):
 *   - `'` and `"` are dropped, and so is a `\` inside a word before a letter (`c\url`): quoting
 *     joins characters into words, it does not change them (`\x63`, an escape, is kept);
 *   - `$(which sh)`, `$(command -v sh)` and `` `which sh` `` stand for what they print: `sh`;
 *   - paths: `//` and `/./` become `/` (`://` is kept: a URL is not a path);
 *   - runs of spaces and tabs become one space (a newline stays: it separates commands);
 *   - `--name=value` becomes `--name value` (in process.args: two elements);
 *   - for the programs in LONG_OPTIONS, a GNU getopt abbreviation becomes the option it stands for
 *     (`base64 --d`, `--de`, `--deco` → `--decode`), found from the command word of each simple
 *     command (after `|`, `;`, `&`, `(`, a backtick, a shell's `-c`, `sudo`, `env`, `VAR=x`…).
 * Path fields (process.executable, process.working_directory, file.path) get the path step only.
 *
 * Linear: a fixed number of passes with regexes written here (no user pattern, no nested
 * quantifier), once per field and document (match-window.ts caches the result).
 */

/** Fields matched in canonical command form, and in canonical path form. */
export const COMMAND_FIELDS = new Set(['process.command_line', 'process.args', 'process.parent.command_line', 'process.parent.args']);
export const PATH_FIELDS = new Set(['process.executable', 'process.working_directory', 'process.parent.executable', 'file.path']);

/**
 * Long options of programs whose abbreviations evade rules, from each program's getopt_long table
 * (GNU coreutils, tar, wget, shadow-utils, ncat, iptables, systemd). A prefix that more than one
 * option shares is left as written, as getopt itself refuses it.
 */
export const LONG_OPTIONS: Record<string, readonly string[]> = {
  base64: ['decode', 'ignore-garbage', 'wrap', 'help', 'version'],
  base32: ['decode', 'ignore-garbage', 'wrap', 'help', 'version'],
  basenc: ['decode', 'ignore-garbage', 'wrap', 'base64', 'base64url', 'base32', 'base32hex', 'base16', 'base2msbf', 'base2lsbf', 'z85', 'help', 'version'],
  chmod: ['changes', 'silent', 'quiet', 'verbose', 'no-preserve-root', 'preserve-root', 'reference', 'recursive', 'help', 'version'],
  rm: ['force', 'interactive', 'one-file-system', 'no-preserve-root', 'preserve-root', 'recursive', 'dir', 'verbose', 'help', 'version'],
  shred: ['force', 'iterations', 'random-source', 'remove', 'size', 'exact', 'verbose', 'zero', 'help', 'version'],
  touch: ['no-create', 'date', 'no-dereference', 'reference', 'time', 'help', 'version'],
  truncate: ['no-create', 'io-blocks', 'reference', 'size', 'help', 'version'],
  tar: ['create', 'extract', 'get', 'list', 'append', 'update', 'diff', 'compare', 'delete', 'file', 'gzip', 'bzip2', 'xz', 'zstd', 'directory', 'to-command', 'checkpoint', 'checkpoint-action', 'use-compress-program', 'verbose', 'exclude', 'remove-files', 'absolute-names', 'overwrite', 'help', 'version'],
  wget: ['output-document', 'quiet', 'no-check-certificate', 'post-data', 'post-file', 'user-agent', 'output-file', 'directory-prefix', 'background', 'input-file', 'continue', 'tries', 'timeout', 'spider', 'header', 'method', 'body-data', 'body-file', 'mirror', 'recursive', 'help', 'version'],
  ncat: ['exec', 'sh-exec', 'lua-exec', 'listen', 'keep-open', 'udp', 'ssl', 'verbose', 'wait', 'send-only', 'recv-only', 'source', 'proxy', 'proxy-type', 'allow', 'deny', 'broker', 'chat', 'output', 'hex-dump', 'idle-timeout', 'nodns', 'crlf', 'help', 'version'],
  useradd: ['base-dir', 'comment', 'home-dir', 'defaults', 'expiredate', 'inactive', 'gid', 'groups', 'skel', 'key', 'no-log-init', 'create-home', 'no-create-home', 'no-user-group', 'non-unique', 'password', 'system', 'root', 'prefix', 'shell', 'uid', 'user-group', 'selinux-user', 'help'],
  usermod: ['append', 'comment', 'home', 'expiredate', 'inactive', 'gid', 'groups', 'login', 'lock', 'move-home', 'non-unique', 'password', 'root', 'prefix', 'shell', 'uid', 'unlock', 'help'],
  iptables: ['append', 'check', 'delete', 'insert', 'replace', 'list', 'list-rules', 'flush', 'zero', 'new-chain', 'delete-chain', 'policy', 'rename-chain', 'protocol', 'source', 'destination', 'jump', 'goto', 'in-interface', 'out-interface', 'table', 'verbose', 'numeric', 'line-numbers', 'help', 'version'],
  systemctl: ['now', 'force', 'user', 'system', 'type', 'state', 'all', 'quiet', 'no-block', 'runtime', 'global', 'help', 'version'],
};
LONG_OPTIONS.ip6tables = LONG_OPTIONS.iptables;

/** Words that run the command after them: the program is the word they are followed by. */
const WRAPPERS = new Set(['sudo', 'doas', 'env', 'exec', 'nohup', 'nice', 'ionice', 'timeout', 'command', 'builtin', 'time', 'xargs', 'stdbuf', 'setsid', 'busybox', 'then', 'do', 'else', '!', '{']);
/** A wrapper's options that take the next word as their value (`sudo -u www-data cmd`). */
const WRAPPER_VALUES: Record<string, readonly string[]> = {
  sudo: ['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U'],
  doas: ['-u', '-C'],
  env: ['-u', '-C', '--unset', '--chdir'],
  nice: ['-n'],
  ionice: ['-c', '-n', '-t'],
  timeout: ['-s', '-k', '--signal', '--kill-after'],
  xargs: ['-I', '-n', '-P', '-d', '-E', '-L', '-s', '-a'],
  exec: ['-a'],
};
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'busybox']);

// An escape such as \x63 or \033 (in $'…', printf, echo -e) stands for another character: kept.
const QUOTES = /["']|(?<=\w)\\(?=[A-Za-z_])(?!x[0-9A-Fa-f])/g;
const HAS_QUOTE = /["'\\]/;
const HAS_BLANKS = /[\t\v\f\r]| {2}/;
const WHICH = /\$\(\s*(?:which|command\s+-v|type\s+-[pP])\s+([\w./-]+)\s*\)|`\s*(?:which|command\s+-v)\s+([\w./-]+)\s*`/g;
const SLASHES = /(?<!:)\/(?:\.?\/)+/g;
const BLANKS = /[ \t\v\f\r]+/g;
const AROUND_NEWLINE = / ?\n ?/g;
/** `0>& 1` is `0>&1` to the shell. */
const REDIRECT = /([<>]&) (?=\d|-)/g;
/** A word, or one of the characters that end a simple command. */
const TOKENS = /[|;&()`\n]|[^\s|;&()`]+/g;
const OPTION = /^--([A-Za-z][\w-]*)(?:=(.*))?$/s;

/** `//` and `/./` as `/`, outside `scheme://`. */
export function canonicalPath(s: string): string {
  return s.includes('//') || s.includes('/./') ? s.replace(SLASHES, '/') : s;
}

/** The command text as rules match it; `program`: the command the text continues (an argument's). */
export function canonicalCommand(s: string, program?: string): string {
  // Each pass runs only where its characters occur: most command lines need none of them.
  let t = HAS_QUOTE.test(s) ? s.replace(QUOTES, '') : s;
  if (t.includes('$(') || t.includes('`')) t = t.replace(WHICH, (_m, a: string | undefined, b: string | undefined) => a ?? b ?? '');
  t = canonicalPath(t);
  if (HAS_BLANKS.test(t)) t = t.replace(BLANKS, ' ');
  if (t.includes('\n')) t = t.replace(AROUND_NEWLINE, '\n');
  if (t.includes('& ')) t = t.replace(REDIRECT, '$1');
  return options(t, program);
}

/** `--name=value` split, and abbreviations completed for the command word each option follows. */
function options(t: string, start: string | undefined): string {
  if (!t.includes('--')) return t;
  let out = '';
  let last = 0;
  let program = start;
  let expect = start === undefined;
  let skip = false;
  for (const m of t.matchAll(TOKENS)) {
    const tok = m[0];
    if (tok.length === 1 && '|;&()`\n'.includes(tok)) {
      expect = true;
      program = undefined;
      continue;
    }
    if (expect) {
      const wrapper = program !== undefined && WRAPPERS.has(program) ? program : undefined;
      if (skip) skip = false;
      else if (wrapper && tok.startsWith('-')) skip = WRAPPER_VALUES[wrapper]?.includes(tok) ?? false;
      else if (!/^\w+=/.test(tok) && !(wrapper && /^\d/.test(tok))) {
        program = tok.slice(tok.lastIndexOf('/') + 1);
        expect = WRAPPERS.has(program);
      }
      continue;
    }
    if (program !== undefined && SHELLS.has(program) && /^-[a-z]*c$/.test(tok)) {
      expect = true;
      continue;
    }
    if (!tok.startsWith('--')) continue;
    const opt = canonicalOption(tok, program);
    if (opt.length === 1 && opt[0] === tok) continue;
    out += t.slice(last, m.index) + opt.join(' ');
    last = m.index + tok.length;
  }
  return last === 0 ? t : out + t.slice(last);
}

/**
 * One argument `--name[=value]` as rules see it: the long option `program` would take it for, and
 * its value as a word of its own. Anything else is returned as it is.
 */
export function canonicalOption(arg: string, program: string | undefined): string[] {
  const m = OPTION.exec(arg);
  if (!m) return [arg];
  const known = program !== undefined ? LONG_OPTIONS[program] : undefined;
  let name = m[1];
  if (known && !known.includes(name)) {
    const hits = known.filter((o) => o.startsWith(name));
    if (hits.length === 1) name = hits[0];
  }
  return m[2] === undefined || m[2] === '' ? [`--${name}${m[2] === '' ? '=' : ''}`] : [`--${name}`, m[2]];
}

/** process.args as rules match them: every element canonical, options split and completed. */
export function canonicalArgs(args: string[]): string[] {
  if (args.length === 0) return args;
  const first = canonicalCommand(args[0]);
  const program = first.slice(first.lastIndexOf('/') + 1);
  const out = [first];
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--') && OPTION.test(a)) out.push(...canonicalOption(a.replace(QUOTES, ''), program));
    // A shell's -c script is a command line of its own; any other argument continues the program.
    else out.push(canonicalCommand(a, SHELLS.has(program) && /^-[a-z]*c$/.test(args[i - 1]) ? undefined : program));
  }
  return out;
}

/** How `field`'s texts are made canonical, or undefined for a field matched as it is. */
export function canonicalizer(field: string): ((texts: string[]) => string[]) | undefined {
  if (COMMAND_FIELDS.has(field)) return field.endsWith('.args') ? canonicalArgs : (texts) => texts.map((s) => canonicalCommand(s));
  if (PATH_FIELDS.has(field)) return (texts) => texts.map(canonicalPath);
  return undefined;
}

/**
 * A rule's literal for `field` in the same spelling as the field's text, so a rule written with
 * `/etc//shadow` or `--output=x` still meets the text it is compared with.
 */
export function canonicalLiteral(field: string, literal: string): string {
  const c = COMMAND_FIELDS.has(field) ? (field.endsWith('.args') ? canonicalArgs([literal]).join(' ') : canonicalCommand(literal)) : PATH_FIELDS.has(field) ? canonicalPath(literal) : literal;
  // A literal of quotes or blanks alone would become empty, which every text contains.
  return c.trim() === '' ? literal : c;
}
