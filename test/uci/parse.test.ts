// The UCI grammar of OPENWRT.md §3, case by case: what loads, what is
// refused and where, and what the lenient parser keeps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseUci, parseUciLenient, UciSyntaxError, type UciPackage, type UciValue } from '../../src/uci/index.ts';

type Sec = [type: string, name: string | null, options: [string, UciValue][]];

function secs(pkg: UciPackage): Sec[] {
  return pkg.sections.map((s) => [s.type, s.name, [...s.options]]);
}

const M = (options: [string, UciValue][]): Sec[] => [['main', 'm', options]];

// [description, input, expected sections]
const ACCEPTED: [string, string, Sec[]][] = [
  ['canonical named section', "config main 'm'\n\toption a '1'\n", M([['a', '1']])],
  ['unquoted tokens', 'config main m\n\toption a 1\n', M([['a', '1']])],
  ['double-quoted type and name', 'config "main" "m"\n\toption a "1"\n', M([['a', '1']])],
  ['keyword abbreviations p c o l', "p kith\nc main m\n\to a x\n\tl b y\n", M([['a', 'x'], ['b', ['y']]])],
  ['leading whitespace and runs of tabs/spaces', " \t config \t main\t\tm \n   option  a \t 'x'  \n", M([['a', 'x']])],
  ['keyword separated by a tab', "config\tmain\tm\noption\ta\tb\n", M([['a', 'b']])],
  ['single quotes are literal', "config main m\n\toption a 'x\\ny \"q\" $HOME'\n", M([['a', 'x\\ny "q" $HOME']])],
  ['single-quoted value over three lines', "config main m\n\toption a 'one\ntwo\n  three'\n\toption b 2\n", M([['a', 'one\ntwo\n  three'], ['b', '2']])],
  ['double quotes: backslash keeps the next char (no C escapes)', 'config main m\n\toption a "q\\"b\\\\c\\nd\\te\\$"\n', M([['a', 'q"b\\cndte$']])],
  ['double quotes: backslash-newline joins lines', 'config main m\n\toption a "foo\\\n   bar"\n', M([['a', 'foo   bar']])],
  ['double quotes: raw newline kept', 'config main m\n\toption a "x\ny"\n', M([['a', 'x\ny']])],
  ['unquoted backslash escapes a space, quote and #', "config main m\n\toption a a\\ b\n\toption b \\'x\n\toption c \\#y\n", M([['a', 'a b'], ['b', "'x"], ['c', '#y']])],
  ['unquoted backslash-newline continues the token', 'config main m\n\toption a foo\\\nbar\n', M([['a', 'foobar']])],
  ['continuation after CRLF', 'config main m\r\n\toption a foo\\\r\nbar\r\n', M([['a', 'foobar']])],
  ['continuation between name and value', "config main m\n\toption a \\\n'v'\n", M([['a', 'v']])],
  ["'it'\\''s' concatenates to it's", "config main m\n\toption a 'it'\\''s'\n", M([['a', "it's"]])],
  ['unquoted, double and single pieces glue', "config main m\n\toption a x\"y z\"'w'v\n", M([['a', 'xy zwv']])],
  ['comment lines, indented and before any section', "# top\n  # indented\nconfig main m\n# option a 1\n\toption b 2\n", M([['b', '2']])],
  ['comment after a statement', 'config main m # c\n\toption a 1  # note\n', M([['a', '1']])],
  ['# inside an unquoted token ends it', 'config main m\n\toption a foo#bar\n\toption b http://x/#frag\n', M([['a', 'foo'], ['b', 'http://x/']])],
  ['# right after a closing quote', "config main m\n\toption a 'x'#c\n", M([['a', 'x']])],
  ['# inside quotes is literal', "config main m\n\toption a 'a#b'\n\toption b \"#c\"\n", M([['a', 'a#b'], ['b', '#c']])],
  ['; after a quoted token separates statements', "config main 'm'; option a '1';option b '2'\n", M([['a', '1'], ['b', '2']])],
  ['; after whitespace separates statements', 'config main m ; option a b ; option c d\n', M([['a', 'b'], ['c', 'd']])],
  ['; glued to an unquoted token drops the rest of the line', 'config main m\n\toption a b; option c d\n\toption e f;g\n', M([['a', 'b'], ['e', 'f']])],
  ['; after an escape-shortened token still separates (terminator lands before it)', 'config main m\n\toption a b\\x; option c d\n', M([['a', 'bx'], ['c', 'd']])],
  ['; inside quotes is literal', "config main m\n\toption a 'x;y'\n\toption b \"1; option c 2\"\n", M([['a', 'x;y'], ['b', '1; option c 2']])],
  ['CRLF line endings: \\r is whitespace between tokens', "config main m\r\n\toption a b\r\n\tlist c 'x'\r\n", M([['a', 'b'], ['c', ['x']]])],
  ['\\r inside quotes is kept', "config main m\n\toption a 'x\r'\n", M([['a', 'x\r']])],
  ["option x '' never creates x", "config main m\n\toption a ''\n\toption b \"\"\n\toption c 1\n", M([['c', '1']])],
  ["option x '' leaves an existing x as is (uci_set returns early while loading)", "config main m\n\toption a 'x'\n\toption a ''\n", M([['a', 'x']])],
  ['option with no value sets nothing', 'config main m\n\toption a\n\toption b x\n\toption b\n', M([['b', 'x']])],
  ["list x '' adds an empty item", "config main m\n\tlist a ''\n\tlist a y\n", M([['a', ['', 'y']]])],
  ['list after option converts it, old value first', 'config main m\n\toption a 1\n\toption z 9\n\tlist a 2\n', M([['a', ['1', '2']], ['z', '9']])],
  ['option after list replaces it in place', 'config main m\n\tlist a 1\n\toption z 9\n\tlist a 2\n\toption a 3\n', M([['a', '3'], ['z', '9']])],
  ['repeated option: last value, first position', 'config main m\n\toption a 1\n\toption b 2\n\toption a 3\n', M([['a', '3'], ['b', '2']])],
  ['duplicate list items are kept', 'config main m\n\tlist a x\n\tlist a x\n', M([['a', ['x', 'x']]])],
  ['repeated config T name reopens the section in its first position', 'config main m\n\toption a 1\nconfig peer p\nconfig main m\n\toption a 2\n\toption b 3\n',
    [['main', 'm', [['a', '2'], ['b', '3']]], ['peer', 'p', []]]],
  ['anonymous sections', 'config peer\n\toption n a\nconfig peer\n\toption n b\n', [['peer', null, [['n', 'a']]], ['peer', null, [['n', 'b']]]]],
  ["config T '' is anonymous", "config peer ''\n", [['peer', null, []]]],
  ['config T cfgNNHHHH reopens the anonymous section of that name', 'config peer\n\toption a 1\nconfig peer cfg013511\n\toption b 2\n', [['peer', null, [['a', '1'], ['b', '2']]]]],
  ['package lines are ignored, any valid name', 'package other-pkg\nconfig main m\n', M([])],
  ['types may hold any printable ASCII', "config 'a/b+c=d.e:f@g[1]' n\nconfig it\\'s\n", [['a/b+c=d.e:f@g[1]', 'n', []], ["it's", null, []]]],
  ['names of digits, upper case and _', 'config Main 123\n\toption ABC 1\n\toption _ 2\n', [['Main', '123', [['ABC', '1'], ['_', '2']]]]],
  ['UTF-8 values, quoted and unquoted', "config main m\n\toption a 'héllo wörld'\n\toption b 日本語\n\tlist c \"😀\"\n", M([['a', 'héllo wörld'], ['b', '日本語'], ['c', ['😀']]])],
  ['tabs and spaces inside quoted values', "config main m\n\toption a '\tx  y\t'\n", M([['a', '\tx  y\t']])],
  ['last line without a newline', 'config main m\n\toption a 1', M([['a', '1']])],
  ['empty file', '', []],
  ['only comments and blank lines', '# a\n\n   \n\t\n# b', []],
  ['a quote closed on a later line swallows the lines between', "config main m\n\toption a 'open\n\toption b '2\n\toption c 3\n", M([['a', 'open\n\toption b 2'], ['c', '3']])],
  ['a 6000-byte value (the line buffer grows)', `config main m\n\toption a ${'x'.repeat(6000)}\n\toption b '${'y'.repeat(6000)}'\n`, M([['a', 'x'.repeat(6000)], ['b', 'y'.repeat(6000)]])],
];

for (const [name, input, want] of ACCEPTED) {
  test(`accepts: ${name}`, () => {
    assert.equal(secs(parseUci(input)), want);
  });
}

// [description, input, friendly line, upstream reason, upstream line, upstream byte, message fragment]
const REFUSED: [string, string, number, string, number, number, RegExp][] = [
  ['unterminated single quote, reported where it opened', "config main m\n\toption a 'x\n\toption b 2\n", 2, "EOF with unterminated '", 3, 25, /unterminated ' quote/],
  ['unterminated double quote', 'config main m\n\toption a "x\n', 2, 'EOF with unterminated "', 2, 13, /unterminated " quote/],
  ['option before the first config', "# c\noption a '1'\nconfig main m\n", 2, 'option/list command found before the first section', 2, 0, /option before the first config/],
  ['list before the first config', '  list a 1\n', 1, 'option/list command found before the first section', 1, 2, /list before/],
  ['option name with a dot', 'config main m\n\toption a.b 1\n', 2, 'invalid character in name field', 2, 12, /invalid option name "a.b"/],
  ['section name with a dash', "config main 'my-sec'\n", 1, 'invalid character in name field', 1, 21, /invalid section name "my-sec"/],
  ['section type with a space', "config 'a b' n\n", 1, 'invalid character in type field', 1, 13, /invalid section type "a b"/],
  ['section type with non-ASCII', 'config tÿpe n\n', 1, 'invalid character in type field', 1, 13, /invalid section type "tÿpe"/],
  ['empty section type', "config '' n\n", 1, 'insufficient arguments', 1, 10, /missing section type/],
  ['package name with a space', "package 'a b'\n", 1, 'invalid character in name field', 1, 14, /invalid package name/],
  ['config with an extra argument', 'config main m extra\n', 1, 'too many arguments', 1, 20, /unexpected "extra"/],
  ['unquoted value with a space', 'config main m\n\toption a hello world\n', 2, 'too many arguments', 2, 22, /unexpected "world"/],
  ['continuation onto an indented line', 'config main m\n\toption a foo\\\n  bar\n', 3, 'too many arguments', 3, 20, /unexpected "bar"/],
  ['; as the value, then another statement', 'config main m\n\toption a ; option b c\n', 2, 'too many arguments', 2, 19, /unexpected "option"/],
  ['unknown command', 'config main m\nthis is garbage\n', 2, 'invalid command', 2, 0, /invalid command "this"/],
  ['misspelled keyword', 'config main m\n\toptions a 1\n', 2, 'invalid command', 2, 1, /invalid command "options"/],
  ['keywords are case-sensitive', 'Config main m\n', 1, 'invalid command', 1, 0, /invalid command "Config"/],
  ['bare config line', 'config main m\nconfig\n', 2, 'invalid command', 2, 0, /"config" needs arguments/],
  ['keyword glued to \\v', 'config main m\noption\va b\n', 2, 'invalid command', 2, 0, /invalid command/],
  ['bare config at the end of the file', 'config main m\nconfig', 2, 'config without name', 1, 0, /config without arguments/],
  ['error on a last line without newline: uci counts one line less', 'config main m\nbroken', 2, 'invalid command', 1, 0, /invalid command/],
  ['same name, different type', "config main m\n\nconfig peer 'm'\n", 3, 'section of different type overwrites prior section with same name', 3, 16, /declared with type "main" on line 1/],
  ['error after a multi-line value names the right line', "config main m\n\toption a 'x\ny\nz'\n\toption b-c 1\n", 5, 'invalid character in name field', 5, 12, /invalid option name "b-c"/],
];

for (const [name, input, line, reason, uciLine, byte, msg] of REFUSED) {
  test(`refuses: ${name}`, () => {
    let err: unknown = null;
    try { parseUci(input, '/etc/config/kith'); } catch (e) { err = e; }
    assert.instance(err, UciSyntaxError);
    assert.instance(err, SyntaxError);
    const e = err as UciSyntaxError;
    assert.ok(e.message.startsWith(`/etc/config/kith:${line}: `), e.message);
    assert.match(e.message, msg);
    assert.equal([e.reason, e.uciLine, e.byte], [reason, uciLine, byte]);
    assert.is(e.uciMessage, `Parse error (${reason}) at line ${uciLine}, byte ${byte}`);
  });
}

test('line numbers of sections and options, lists item by item', () => {
  const pkg = parseUci("# c\nconfig main m\n\toption a 'x\ny'\n\tlist l 1\n\n\tlist l 2\nconfig main m\n\toption a z\n");
  const s = pkg.sections[0]!;
  assert.is(s.line, 2);
  assert.equal(s.optionLines.get('l'), [5, 7]);
  assert.equal(s.optionLines.get('a'), [9], 'the line that set the current value');
  const conv = parseUci('config t n\n\toption x 1\n\tlist x 2\n').sections[0]!;
  assert.equal(conv.optionLines.get('x'), [2, 3]);
});

test('parseUci accepts bytes and decodes values as UTF-8', () => {
  const bytes = new TextEncoder().encode("config main m\n\toption a 'ü'\n");
  assert.equal(secs(parseUci(bytes)), M([['a', 'ü']]));
});

test('lenient: a bad option is skipped, every other section is kept', () => {
  const { pkg, errors } = parseUciLenient("config a one\n\toption x 1\n\toption bad-name 2\n\toption y 3\nconfig b two\n\toption z 4\n", 'f');
  assert.equal(secs(pkg), [['a', 'one', [['x', '1'], ['y', '3']]], ['b', 'two', [['z', '4']]]]);
  assert.equal(errors.map((e) => [e.file, e.line, e.reason]), [['f', 3, 'invalid character in name field']]);
});

test('lenient: an unterminated quote loses only its own statement', () => {
  const input = "config a one\n\toption x 'never closed\n\toption y 2\nconfig b two\n\toption z 3\n";
  assert.throws(() => parseUci(input), /:2: unterminated ' quote/);
  const { pkg, errors } = parseUciLenient(input);
  assert.equal(secs(pkg), [['a', 'one', [['y', '2']]], ['b', 'two', [['z', '3']]]]);
  assert.equal(errors.map((e) => [e.line, e.reason]), [[2, "EOF with unterminated '"]]);
});

test('lenient: a bad config line drops its options instead of filing them in the previous section', () => {
  const { pkg, errors } = parseUciLenient("config a one\n\toption x 1\nconfig a 'bad name'\n\toption y 2\nconfig b two\n\toption z 3\n");
  assert.equal(secs(pkg), [['a', 'one', [['x', '1']]], ['b', 'two', [['z', '3']]]]);
  assert.equal(errors.map((e) => e.line), [3], 'one error, no noise about the dropped options');
});

test('lenient: every problem is reported at once, in order', () => {
  const { pkg, errors } = parseUciLenient("option early 1\nconfig main m\n\toption a hello world\n\tbogus\nconfig main m extra\nconfig main 'm'\n\toption b 'ok'\nconfig peer m\n");
  assert.equal(errors.map((e) => [e.line, e.reason]), [
    [1, 'option/list command found before the first section'],
    [3, 'too many arguments'],
    [4, 'invalid command'],
    [5, 'too many arguments'],
    [8, 'section of different type overwrites prior section with same name'],
  ]);
  assert.equal(secs(pkg), M([['b', 'ok']]));
});

test('lenient: a valid file gives no errors and the same model as the strict parser', () => {
  const input = "config main m\n\toption a 1\n\tlist l x\nconfig peer\n\toption n 'q'\n";
  const { pkg, errors } = parseUciLenient(input);
  assert.equal(errors, []);
  assert.equal(pkg, parseUci(input));
});

test.run();
