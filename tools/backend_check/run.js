// Launcher: compiles TypeScript on the fly (ts-node, transpile-only, with decorator
// metadata like the backend's own tsconfig) and makes the backend checkout's files load
// against THIS directory's node_modules, then starts harness.ts.
//
//   GUIDERS_BACKEND_SRC=/path/to/guiders-backend node run.js
//
// The backend's source is read from GUIDERS_BACKEND_SRC at run time; nothing of it is
// copied here.
'use strict';
const fs = require('fs');
const path = require('path');
const Module = require('module');

const here = __dirname;
const src = process.env.GUIDERS_BACKEND_SRC;
if (!src) {
  process.stderr.write('GUIDERS_BACKEND_SRC is not set (path of a guiders-backend checkout)\n');
  process.exit(2);
}
const backendRoot = path.resolve(src);
const gatewayFile = path.join(backendRoot, 'src/websocket/websocket.gateway.ts');
if (!fs.existsSync(gatewayFile)) {
  process.stderr.write(`no ${gatewayFile}: GUIDERS_BACKEND_SRC is not a guiders-backend checkout\n`);
  process.exit(2);
}

// The backend imports 'src/...' (its tsconfig baseUrl) and bare packages it expects in its
// own node_modules. Map 'src/...' onto the checkout and resolve every bare package from
// here, so the backend and the harness share ONE copy of @nestjs/* (Nest's DI and the CQRS
// bus compare classes by identity) even if the checkout has a node_modules of its own.
const harnessParent = { id: path.join(here, 'run.js'), filename: path.join(here, 'run.js'),
  paths: Module._nodeModulePaths(here) };
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, isMain, options) {
  if (request.startsWith('src/')) {
    return resolve.call(this, path.join(backendRoot, request), parent, isMain, options);
  }
  const bare = !request.startsWith('.') && !path.isAbsolute(request) && !request.startsWith('node:');
  if (bare && parent && parent.filename && parent.filename.startsWith(backendRoot + path.sep)) {
    return resolve.call(this, request, harnessParent, isMain, options);
  }
  return resolve.call(this, request, parent, isMain, options);
};

require('ts-node').register({
  project: path.join(here, 'tsconfig.json'),
  transpileOnly: true,
  // the checkout is outside this project: compile it too (node_modules stay ignored)
  ignore: [/node_modules/],
});
process.env.HARNESS_BACKEND_ROOT = backendRoot;
require('./harness.ts')
  .main()
  .catch((err) => {
    process.stderr.write(`harness failed: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
