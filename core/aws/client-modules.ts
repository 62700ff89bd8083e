/**
 * @module aws/client-modules
 * The S3, SNS and SQS client modules, each loaded on first use (a chunk of its own in a function's
 * bundle, handlers/build.ts) and then held. `import()` of a module already loaded is cheap in a
 * bundle, but where the TypeScript runs through tsx (the worker, the local stack) every call still
 * sends the specifier to the loader thread to be resolved again: a worker paid that on every
 * event batch it published (the profile in the README's benchmark section). A failed load is not
 * held, so the next call tries again.
 */
function heldOnceLoaded<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}

export const s3Module = heldOnceLoaded(() => import("./s3-client.ts"));
export const snsModule = heldOnceLoaded(() => import("./sns-client.ts"));
export const sqsModule = heldOnceLoaded(() => import("./sqs-client.ts"));
