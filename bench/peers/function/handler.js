// The function every peer runs: counts its own invocations, so a caller sees whether warm state is kept.
let invocations = 0;
exports.handler = async () => ({ invocations: ++invocations });
