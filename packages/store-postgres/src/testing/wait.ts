/** Polls `done` every 20 ms; fails with `what()` when it is still false after `ms`. */
export const until = async (done: () => boolean, what: () => string, ms: number): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(what());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
