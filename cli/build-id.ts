import { bundleWorkflows, buildId } from '../platform/deployment';

/**
 * `npm run build-id`: prints the build id of the workflow code in this checkout, the value a CI
 * pipeline stamps as BUILD_ID (a versioned saga worker refuses any id that does not end with the
 * code's hash).
 */
bundleWorkflows(require.resolve('../workflows')).then(
  (bundle) => console.log(buildId(bundle)),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
