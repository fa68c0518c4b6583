// vae-explorer page: wires the state, the engine, the backend policy and the panels. The wasm
// API is src/web.rs; the README's Layout section lists the modules.

import { State } from './state.js';
import { Engine, createStats } from './engine.js';
import { Messages } from './messages.js';
import { BackendPolicy } from './backend-policy.js';
import { Models } from './models.js';
import { parseBackend } from './lib/backends.js';
import { exposeForTests } from './hooks.js';
import { mountAddress } from './panels/address.js';
import { mountMenus } from './panels/menus.js';
import { mountSliders } from './panels/sliders.js';
import { mountDecoded } from './panels/decoded.js';
import { mountDrawing } from './panels/drawing.js';
import { mountMap } from './panels/map.js';
import { mountManifold } from './panels/manifold.js';
import { mountExplain } from './panels/explain.js';
import { mountClassifier } from './panels/classifier.js';
import { mountNeighbours } from './panels/neighbours.js';
import { mountCompare } from './panels/compare.js';
import { mountTraversals } from './panels/traversals.js';
import { mountInterpolation } from './panels/interpolation.js';
import { mountSamples } from './panels/samples.js';
import { mountAttributes } from './panels/attributes.js';
import { mountLatency } from './panels/latency.js';
import { mountTraining } from './panels/training.js';
import { mountHowto } from './panels/howto.js';
import { mountFolds } from './panels/folds.js';

const state = new State();
const stats = createStats();
const messages = new Messages();
const engine = new Engine({ state, stats, messages });
messages.describeStatus = () => engine.statusLine();
messages.catchUncaught();

// Every change of z is decoded (at most one dispatch per frame, latest wins).
state.on('z', ({ t }) => engine.requestDecode(t));

const address = mountAddress({ state, messages });
const backend = parseBackend(address.requestedBackend);
const policy = new BackendPolicy({ requested: backend.requested, engine, state, messages });
policy.watchDevices();
exposeForTests({ stats, engine, state, policy });

const models = new Models({ state, engine, policy, messages, requestedModel: address.requestedModel, restore: address.restore });
const context = { state, engine, stats, messages };
mountFolds();
mountMenus({
  ...context,
  backend,
  switchTo: (name) => models.switchTo(name),
  useLocal: (bundle, options) => models.useLocal(bundle, options),
  removeLocal: (name) => models.removeLocal(name),
});
mountLatency(context);
mountSliders(context);
mountDecoded(context);
mountDrawing(context);
mountExplain(context);
mountClassifier(context);
mountNeighbours(context);
mountMap(context);
mountManifold(context);
mountTraversals(context);
mountInterpolation(context);
mountSamples(context);
mountAttributes(context);
mountCompare({ ...context, openSide: (name) => models.openSide(name) });
mountTraining({ ...context, useModel: (bundle) => models.useLocal(bundle) });
mountHowto();

models.load().catch((err) => models.fail(err));
