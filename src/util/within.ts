/**
 * Waiting on work with a deadline, without cancelling it.
 */

/**
 * Whether `work` settles (fulfilled or rejected) within `ms` milliseconds; the work goes on either
 * way. Never throws.
 * @returns true when it settled in time, false once `ms` passed first.
 */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  try {
    return await Promise.race([work.then(() => true, () => true), late])
  } finally {
    clearTimeout(timer)
  }
}
