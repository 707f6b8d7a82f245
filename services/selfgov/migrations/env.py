from services.selfgov.models import Base
from shared.migrations_env import run

run(Base.metadata)
