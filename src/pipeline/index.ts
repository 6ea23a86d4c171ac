export { analyzeImage, type AdviceOptions, type Analysis, type AnalyzeOptions, type LayerProgress, type LayerReadObserver } from './analyze.js'
export { analyzeCached, resultOf, type AnalysisResult, type CachedAnalysis } from './cached.js'
export { openForAnalysis, prepareAnalysis, type AnalysisInputs } from './open.js'
