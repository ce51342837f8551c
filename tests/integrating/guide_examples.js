// The examples of docs/integrating.md live in examples/integrating/ (where the test run executes
// them); the guide shows each one in full, in a fenced block right after a marker line:
//
//   <!-- example: examples/integrating/list_patients.py -->
//   ```python
//   ...the file, byte for byte...
//   ```
//
// guide.test.js checks that each block equals its file. After editing an example, rewrite the
// blocks from the files with:  node tests/integrating/guide_examples.js --write
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const guidePath = path.join(root, 'docs', 'integrating.md');
const examplesDir = path.join(root, 'examples', 'integrating');

// A marker, the fence's opening line, the block's text, the closing fence.
const BLOCK = /<!-- example: (\S+) -->\n(```[a-z]*)\n([\s\S]*?)^```$/gm;

// [{file, fence, text, index}] for every marked block of the guide.
function markedBlocks(guide) {
  return [...guide.matchAll(BLOCK)].map((m) => ({ file: m[1], fence: m[2], text: m[3], index: m.index }));
}

// The guide with every marked block replaced by its file's current text.
function render(guide) {
  return guide.replace(BLOCK, (_, file, fence) => {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    return `<!-- example: ${file} -->\n${fence}\n${text}${text.endsWith('\n') ? '' : '\n'}\`\`\``;
  });
}

module.exports = { root, guidePath, examplesDir, markedBlocks, render };

if (require.main === module && process.argv.includes('--write')) {
  fs.writeFileSync(guidePath, render(fs.readFileSync(guidePath, 'utf8')));
  console.log(`rewrote the example blocks of ${path.relative(root, guidePath)}`);
}
