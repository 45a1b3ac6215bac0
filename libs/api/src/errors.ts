/** The API's error types, each with the HTTP status Prometheus answers it with. */
export type ApiErrorType =
  'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal' | 'unavailable' | 'not_found';

const STATUS: Record<ApiErrorType, number> = {
  bad_data: 400,
  execution: 422,
  timeout: 503,
  canceled: 499,
  internal: 500,
  unavailable: 503,
  not_found: 404,
};

export class ApiError extends Error {
  constructor(
    readonly type: ApiErrorType,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return STATUS[this.type];
  }
}

export function badData(message: string): ApiError {
  return new ApiError('bad_data', message);
}
