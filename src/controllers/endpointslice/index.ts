// The EndpointSlice controller: slices of at most 100 endpoints per Service with a selector.
export { endpointSliceController, EndpointSliceController, EndpointSliceError, ENDPOINTSLICE_CONTROLLER, SLICE_CHANGE_SYNC_DELAY_MS, type EndpointSliceControllerDeps, type EndpointSliceErrorCode } from "./controller.js";
export { reconcile, addressTypesOf, endpointPorts, podToEndpoint, portMapKey, sliceLabels, CONTROLLER_NAME, MANAGED_BY_LABEL, MAX_ENDPOINTS_PER_SLICE, ZONE_LABEL, type ReconcileInput, type ReconcilePlan } from "./reconciler.js";
export { EndpointSliceTracker, SERVICE_NAME_LABEL } from "./tracker.js";
