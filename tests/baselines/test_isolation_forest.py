import numpy as np

from deepsad.baselines import IsolationForest
from tests.baselines.test_common import blob_and_outliers


def test_random_state_matters_for_isolation_forest():
    X_train, X_test, _ = blob_and_outliers()
    first = IsolationForest(n_estimators=20, random_state=0).fit(X_train).anomaly_score(X_test)
    second = IsolationForest(n_estimators=20, random_state=1).fit(X_train).anomaly_score(X_test)
    assert not np.array_equal(first, second)
