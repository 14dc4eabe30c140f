import Logging

/// The indexing pipeline's logger (stderr through the process's swift-log bootstrap).
let indexingLog = Logger(label: "codesage.indexing")
