export {
  GATEWAY_PYTHON_FILES,
  gatewayPythonSources,
  LITELLM_ENV,
  USAGE_CALLBACK,
  USAGE_DATABASE_URL_ENV,
  WORKBENCH_AUTH,
} from "./gateway.ts";
export {
  aiwbCacheDir,
  LITELLM_PIN_FILES,
  litellmVenvDir,
  litellmVenvHash,
  pinnedLiteLlmVersion,
} from "./venv.ts";
