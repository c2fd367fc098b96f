package runtime

// FaultSteps exposes the steps of each operation to the crash tests, which are
// in package runtime_test.
var FaultSteps = faultSteps
