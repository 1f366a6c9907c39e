// Test doubles for controllers: the API interface controllers write through, a recording
// fake of it, caches seeded without a server, and a recording event sink.
export type { Api, ResourceApi } from "../api.js";
export { FakeApi, apiError, conflictError, notFoundError, alreadyExistsError, forbiddenError, invalidError, type Action, type ActionMatch, type Verb, type FakeApiOptions } from "./fake.js";
export { seedIndexer, seedLister, standardIndexers, cachePut, cacheDelete } from "./listers.js";
export { RecordingEventSink, type RecordedEvent } from "./events.js";
