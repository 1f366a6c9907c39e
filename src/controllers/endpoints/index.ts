// The Endpoints controller, and the pod and service rules the EndpointSlice controller shares with it.
export { endpointsController, EndpointsController, desiredEndpoints, ENDPOINTS_CONTROLLER, HEADLESS_LABEL, type EndpointsControllerDeps, type DesiredEndpoints } from "./controller.js";
export { repackSubsets, truncateSubsets, MAX_ENDPOINTS_CAPACITY, OVER_CAPACITY_ANNOTATION, type AddressEntry } from "./subsets.js";
export {
  findPort,
  isPodReady,
  isPodTerminal,
  podEndpointsChanged,
  podIPOfFamily,
  serviceFamily,
  serviceSelector,
  servicesSelecting,
  shouldPodBeInEndpoints,
  shouldSetHostname,
  type RPod,
  type RService,
} from "./podutil.js";
